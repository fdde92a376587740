from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.models import Document
from transforms.text import DecodeError, decode_text, decode_text_repaired, normalise_text, parse_text, repair_utf8

import pytest


def _doc(body: bytes, media_type: str = "text/plain") -> Document:
    return Document("x.txt", "seed", body, media_type)


def test_seed_structure(seed_article) -> None:  # type: ignore[no-untyped-def]
    kinds = [b.kind for b in seed_article.blocks]
    assert kinds[0] == "headline" and kinds[1] == "standfirst"
    assert kinds.count("key_point") == 3
    text = seed_article.text
    headings = [text[b.start : b.end] for b in seed_article.blocks if b.kind == "subheading"]
    assert "Is Putin Losing China’s Support in Ukraine War?" in headings
    assert "Russia’s economy relies on China" in headings
    assert seed_article.title == "Putin has a new problem because of China’s Xi"
    key_points = [text[b.start : b.end] for b in seed_article.blocks if b.kind == "key_point"]
    assert key_points[0].startswith("Putin’s defeat in Kherson")  # bullet marker dropped
    # paragraph breaks kept; every block is a slice of the text
    assert "\n\n" in text
    for block in seed_article.blocks:
        assert text[block.start : block.end].strip() == text[block.start : block.end]
    assert "•" not in text


def test_markdown_headings_and_bullets() -> None:
    body = "# Big News\n\nA short standfirst.\n\n## Background\n\n- first point\n- second point\n\nA paragraph\nwrapped over lines.".encode()
    article = parse_text(_doc(body, "text/markdown")).article
    assert article is not None
    assert [b.kind for b in article.blocks] == ["headline", "standfirst", "subheading", "key_point", "key_point", "paragraph"]
    assert article.text.endswith("A paragraph wrapped over lines.")


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_legacy_encodings_decode(encoding: str) -> None:
    text = "Zürich: “Ça va”, says Müller – the café’s owner. Großartig!" if encoding == "cp1252" else "Zürich: Ça va, says Müller. Großartig! Señor Peña."
    article = parse_text(_doc(f"Headline here\n\n{text}".encode(encoding))).article
    assert article is not None
    assert text in article.text


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"", "empty"), (b"   \n\n ", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary")],
)
def test_unreadable_bodies_become_rejects(body: bytes, reason: str) -> None:
    result = parse_text(_doc(body))
    assert result.article is None and result.reject is not None
    assert result.reject.reason == reason and result.reject.message


def test_utf16_with_bom() -> None:
    assert decode_text("Héllo wörld".encode("utf-16")) == "Héllo wörld"


def test_decode_error_has_reason() -> None:
    with pytest.raises(DecodeError) as info:
        decode_text(b"\x00\x01\x02binary")
    assert info.value.reason == "binary"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalise_text_is_idempotent_and_total(s: str) -> None:
    once = normalise_text(s)
    assert normalise_text(once) == once


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_parse_text_never_raises_and_offsets_hold(body: bytes) -> None:
    result = parse_text(_doc(body))
    assert (result.article is None) != (result.reject is None)
    if result.article is not None:
        for block in result.article.blocks:
            assert 0 <= block.start <= block.end <= len(result.article.text)


def test_mostly_utf8_is_repaired_locally_not_read_as_a_legacy_code_page() -> None:
    body = "The café’s owner said “yes” on Monday.\n\n".encode("utf-8") + "A pasted façade.\n".encode("cp1252")
    text, repaired = decode_text_repaired(body)
    assert repaired
    assert "café’s owner said “yes”" in text and "façade" in text  # neither part is mojibake
    article = parse_text(Document("mixed.txt", "seed", b"Headline\n\n" + body, "text/plain")).article
    assert article is not None and ("text", "decode_repaired") in article.provenance


def test_legacy_and_clean_texts_are_not_repaired() -> None:
    assert decode_text_repaired("Señor Peña’s café".encode("cp1252")) == ("Señor Peña’s café", False)
    assert decode_text_repaired("Señor Peña’s café".encode("utf-8")) == ("Señor Peña’s café", False)
    assert repair_utf8("Señor Peña".encode("cp1252")) is None  # no UTF-8 in it: a legacy file


def test_control_characters_are_stripped_before_offsets() -> None:
    filler = "A sentence to get past the first eight kilobytes. " * 200
    body = f"Headline\n\n{filler}\n\nEnd \x1b[2J\x1b]0;title\x07 of\x00 story\x7f.\n".encode("utf-8")
    article = parse_text(Document("c.txt", "seed", body, "text/plain")).article
    assert article is not None
    assert not any(ch in article.text for ch in "\x1b\x07\x00\x7f")
    assert article.text.endswith("End [2J]0;title of story.")
    for block in article.blocks:
        assert article.text[block.start : block.end].strip() == article.text[block.start : block.end]
