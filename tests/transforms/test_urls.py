"""URLs get one spelling, or a reason they cannot be fetched."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.urls import UrlError, normalise_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://WWW.Example.COM:443/a?utm_source=x&b=2&a=1#frag", "https://www.example.com/a?a=1&b=2"),
        ("http://example.com:80", "http://example.com"),
        ("http://example.com:8080/x?gclid=abc", "http://example.com:8080/x"),
        ("  https://example.com/story  ", "https://example.com/story"),
    ],
)
def test_normalise_url(raw: str, expected: str) -> None:
    assert normalise_url(raw) == expected


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "file:///etc/passwd", "https://", "http://exa mple.com/", "http://example.com:99999/"])
def test_normalise_url_refuses(raw: str) -> None:
    with pytest.raises(UrlError):
        normalise_url(raw)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_normalise_url_is_idempotent_or_refuses(raw: str) -> None:
    try:
        once = normalise_url("https://example.com/" + raw)
    except UrlError:
        return
    assert normalise_url(once) == once
