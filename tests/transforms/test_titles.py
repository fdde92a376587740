"""The headline: kickers, site suffixes and the titles a page declares."""

from __future__ import annotations

from transforms.metadata import PageMetadata, Sourced
from transforms.titles import pick_title


def _meta(*titles: tuple[str, str], h1s: tuple[str, ...] = (), site: str | None = None) -> PageMetadata:
    return PageMetadata(titles=tuple(Sourced(v, s) for v, s in titles), h1s=h1s,
                        site_name=Sourced(site, "meta") if site else None)


def test_a_headline_declared_with_and_without_its_kicker_is_the_one_without() -> None:
    meta = _meta(("Ferry crisis: Operator fined over safety lapses", "json_ld"),
                 ("Operator fined over safety lapses", "meta"),
                 ("Ferry crisis: Operator fined over safety lapses | Harbour Courier", "html"), site="Harbour Courier")
    title = pick_title(meta, None, "https://courier.example/ferry")
    assert title == Sourced("Operator fined over safety lapses", "json_ld")


def test_a_kicker_alone_is_kept_when_no_declaration_drops_it() -> None:
    meta = _meta(("Ferry crisis: Operator fined over safety lapses", "json_ld"),
                 ("Ferry crisis: Operator fined over safety lapses", "meta"))
    assert pick_title(meta, None, None) == Sourced("Ferry crisis: Operator fined over safety lapses", "json_ld")


def test_different_kickers_on_the_page_and_in_the_declaration_leave_the_shared_headline() -> None:
    meta = _meta(("Iranischer Angriff auf Israel: «Die Zurückhaltung hat viel mit den USA zu tun»", "meta"),
                 h1s=("Eskalation im Nahen Osten - «Die Zurückhaltung hat viel mit den USA zu tun»",))
    assert pick_title(meta, None, None) == Sourced("«Die Zurückhaltung hat viel mit den USA zu tun»", "html")


def test_kickers_that_share_words_are_one_kicker_written_two_ways() -> None:
    # "Premier League Rückschlag im Titelkampf" is the declared kicker with the section in front
    meta = _meta(("Rückschlag im Titelkampf - Liverpool verliert bei Everton", "json_ld"),
                 h1s=("Premier League Rückschlag im Titelkampf - Liverpool verliert bei Everton",))
    assert pick_title(meta, None, None) == Sourced("Rückschlag im Titelkampf - Liverpool verliert bei Everton",
                                                   "json_ld")
