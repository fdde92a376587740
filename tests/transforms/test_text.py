from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.models import Document
from transforms.text import DecodeError, decode_text, normalise_text, parse_text

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
