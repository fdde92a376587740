"""Payload decoding: one charset detection, one size-limited inflater for every caller."""

from __future__ import annotations

import gzip
import zlib

import pytest

from transforms.decoding import (DecodeError, Inflater, PageError, PayloadError, decode_html, decode_text, inflate,
                                 meta_charset, sniff_charset)

PAGE = b"<html><head><title>t</title></head><body><p>" + "Caf\u00e9 cr\u00e8me ".encode() * 200 + b"</p></body></html>"


def test_gzip_members_and_nul_padding_are_read_when_asked() -> None:
    data = gzip.compress(b"one ") + gzip.compress(b"two") + b"\x00\x00"
    assert inflate(data, 100, members=True) == b"one two"
    assert inflate(data, 100) == b"one "


def test_a_cut_stream_is_truncated_only_when_completeness_is_asked() -> None:
    cut = gzip.compress(PAGE)[:-40]
    assert PAGE.startswith(inflate(cut, 100_000))
    with pytest.raises(PayloadError) as info:
        inflate(cut, 100_000, complete=True)
    assert info.value.reason == "truncated"
    assert "gzip stream ends early" in str(info.value)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_the_ceiling_stops_a_bomb(encoding: str) -> None:
    data = gzip.compress(b" " * 1_000_000) if encoding == "gzip" else zlib.compress(b" " * 1_000_000)
    with pytest.raises(PayloadError) as info:
        inflate(data, 10_000, encoding)
    assert info.value.reason == "decompression_bomb"
    assert inflate(data, 1_000_000, encoding) == b" " * 1_000_000


@pytest.mark.parametrize("wrap", [zlib.compress, lambda b: zlib.compress(b)[2:-4]], ids=["zlib", "raw"])
def test_deflate_is_zlib_wrapped_or_raw(wrap: object) -> None:
    assert callable(wrap)
    assert inflate(wrap(PAGE), 100_000, "deflate") == PAGE


def test_streaming_in_small_chunks_gives_what_one_shot_gives() -> None:
    data = gzip.compress(PAGE)
    inflater = Inflater("gzip", 100_000)
    out = b"".join(inflater.feed(data[i:i + 7]) for i in range(0, len(data), 7)) + inflater.flush()
    assert out == PAGE == inflate(data, 100_000)
    assert inflater.eof


def test_corrupt_and_unknown_encodings_are_content_encoding_errors() -> None:
    with pytest.raises(PayloadError) as corrupt:
        inflate(b"\x1f\x8b\x08\x00garbage-garbage", 1000)
    assert corrupt.value.reason == "content_encoding" and corrupt.value.detail
    with pytest.raises(PayloadError) as unknown:
        Inflater("br", 1000)
    assert unknown.value.reason == "content_encoding"
    assert Inflater(" Identity ", 5).feed(b"abc") == b"abc"


def test_meta_charset_takes_the_first_declaration_with_any_iana_character() -> None:
    assert meta_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">') == "ISO-8859-1"
    assert meta_charset(b'<meta charset="utf-7+x" data-charset="koi8-r">') == "utf-7+x"
    assert meta_charset(b"<p>charset=utf-8</p>") is None


def test_page_and_text_decoders_agree_with_the_sniffer_on_declared_legacy_pages() -> None:
    legacy = b'<html><head><meta charset="windows-1252"></head><body>' + "caf\u00e9".encode("cp1252") + b"</body></html>"
    assert sniff_charset(legacy) == "cp1252"
    assert "caf\u00e9" in decode_html(legacy)
    assert decode_text("caf\u00e9 cr\u00e8me".encode("cp1252"), "cp1252") == "caf\u00e9 cr\u00e8me"


@pytest.mark.parametrize(("body", "error", "reason"), [
    (b"  \n", PageError, "empty"), (b"%PDF-1.4 ...", PageError, "not_html"),
])
def test_pages_that_are_not_text_say_why(body: bytes, error: type[Exception], reason: str) -> None:
    with pytest.raises(error) as info:
        decode_html(body)
    assert getattr(info.value, "reason") == reason


def test_text_decoding_errors_carry_their_stage() -> None:
    with pytest.raises(DecodeError) as info:
        decode_text(b"\x00\x01binary")
    assert (info.value.stage, info.value.reason) == ("extract", "binary")
