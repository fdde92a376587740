"""Bylines across languages: "by" words, conjunctions, agencies and outlets of record, junk rejected."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from transforms.bylines import normalise_authors
from transforms.dateline import parse_dateline
from transforms.metadata import parse_metadata


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Felix Schröder und Jörg Soldwisch, dpa", ("Felix Schröder", "Jörg Soldwisch", "dpa")),
        ("Trine Juncher Jørgensen og Tôrtia Reimer-Johansen", ("Trine Juncher Jørgensen", "Tôrtia Reimer-Johansen")),
        ("Anna Lind och Per Berg", ("Anna Lind", "Per Berg")),
        ("Par Léa Martin et Paul Roux", ("Léa Martin", "Paul Roux")),
        ("Por María Gil y Juan Sanz", ("María Gil", "Juan Sanz")),
        ("Ярослав Кузишин и Антон Зелинский", ("Ярослав Кузишин", "Антон Зелинский")),
        ("Von Anna Berg", ("Anna Berg",)),
        ("Autorin: Eva Mai", ("Eva Mai",)),
        ("Elena Oberholzer (obe), Oliver Maksan (oma)", ("Elena Oberholzer", "Oliver Maksan")),
        ("AFP", ("AFP",)),
        ("DER SPIEGEL", ("Der Spiegel",)),
        ("Tom Price - Reuters", ("Tom Price", "Reuters")),
        ("신현주 기자", ("신현주",)),  # Korean "reporter" after the name
        ("松岡大地記者", ("松岡大地",)),
    ],
)
def test_byline_grammar_across_languages(raw: str, expected: tuple[str, ...]) -> None:
    assert normalise_authors(raw) == expected


@pytest.mark.parametrize("raw", ["(Image: Getty Images)", "Foto: imago images", "Twitter", "in", "Redaktion", "Staff"])
def test_junk_is_not_an_author(raw: str) -> None:
    assert normalise_authors(raw) == ()


def test_a_conjunction_inside_a_description_does_not_split_it() -> None:
    raw = "Povilas Aleksandravičius, Vilniaus universiteto istorijos ir filosofijos fakulteto profesorius"
    assert normalise_authors(raw) == ("Povilas Aleksandravičius",)


def _page(ld_author: str, extra_head: str = "", body: str = "") -> lxml_html.HtmlElement:
    return lxml_html.fromstring(f"""<html><head>{extra_head}
<meta property="og:site_name" content="Morgenblatt">
<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "Die Fähre fährt wieder",
 "author": {ld_author}, "publisher": {{"@type": "NewsMediaOrganization", "name": "Morgenblatt"}}}}</script>
</head><body><article><h1>Die Fähre fährt wieder</h1>{body}<p>Der Betrieb läuft seit Montag.</p></article></body></html>""")


def test_an_agency_credited_next_to_a_person_is_kept_and_the_outlet_is_not() -> None:
    meta = parse_metadata(_page('[{"@type": "Person", "name": "Paula Steiger"}, {"@type": "Organization", "name": "SDA"},'
                                ' {"@type": "Organization", "name": "Morgenblatt"}]'))
    assert meta.authors == ("Paula Steiger", "SDA") and not meta.authors_are_outlet


def test_the_outlet_alone_is_the_author_of_record() -> None:
    meta = parse_metadata(_page('{"@type": "Organization", "name": "Morgenblatt"}'))
    assert meta.authors == ("Morgenblatt",) and meta.authors_are_outlet


def test_people_in_the_meta_tags_win_over_an_outlet_credit() -> None:
    meta = parse_metadata(_page('{"@type": "Organization", "name": "Morgenblatt"}',
                                '<meta name="author" content="Lena Holm und Omar Haddad">'))
    assert meta.authors == ("Lena Holm", "Omar Haddad") and meta.authors_source == "meta"


def test_a_german_byline_under_the_headline() -> None:
    tree = _page('{"@type": "Organization", "name": "Morgenblatt"}', body="<p class='meta'>Von Lena Holm</p>")
    assert parse_dateline(tree, "Die Fähre fährt wieder").authors == ("Lena Holm",)
    sentence = _page('{"@type": "Organization", "name": "Morgenblatt"}',
                     body="<p>von der Leyen reist nach Kiel</p>")
    assert parse_dateline(sentence, "Die Fähre fährt wieder").authors == ()
