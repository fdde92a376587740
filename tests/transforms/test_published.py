"""The publication day: declared times, the dateline shown, the URL and trafilatura's guess."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from transforms.dateline import parse_dateline
from transforms.metadata import PageMetadata, Sourced
from transforms.published import pick_published

PAGE = """<html><body><h1>Ferry operator fined over safety lapses</h1>
<p class="byline">By Tom Price</p><p class="meta">{dateline}</p>
<p>{paragraph}</p></body></html>"""
HEADLINE = "Ferry operator fined over safety lapses"


def _published(dateline: str, declared: str, modified: str | None = None) -> str | None:
    tree = lxml_html.fromstring(PAGE.format(dateline=dateline, paragraph="The operator was fined. " * 20))
    meta = PageMetadata(published_at=Sourced(declared, "json_ld"),
                        modified_at=Sourced(modified, "json_ld") if modified else None)
    picked = pick_published(meta, None, parse_dateline(tree, HEADLINE), None)
    return picked.value if picked else None


@pytest.mark.parametrize(
    ("dateline", "declared", "modified", "expected"),
    [
        # the day shown is the publisher's local day of the declared UTC moment: the shown day, in full
        ("27.08.2024, 00:32 Uhr", "2024-08-26T22:32:00+00:00", None, "2024-08-27"),
        # a broadcast the day before, at a time no time zone makes the declared moment: the declared day
        ("Im Radio am 26.08.2024 um 06:00 Uhr", "2024-08-27T10:32:24+00:00", None, "2024-08-27T10:32:24+00:00"),
        # a live page showing its last update, months after the declared publication
        ("18.07.2024, 11:08 Uhr", "2023-10-07T09:53:36+02:00", "2024-07-18T11:08:27+02:00",
         "2023-10-07T09:53:36+02:00"),
        # a day shown without a time still wins over a declared CMS date days before it
        ("July 18, 2024", "2024-07-10T09:53:36+02:00", None, "2024-07-18"),
    ],
)
def test_a_shown_day_and_time_that_cannot_be_the_declared_moment_is_another_event(
        dateline: str, declared: str, modified: str | None, expected: str) -> None:
    assert _published(dateline, declared, modified) == expected
