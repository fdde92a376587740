"""One spelling per URL, so that the same article found twice is fetched once.

`normalise_url` lowercases the scheme and host and drops the default port, the fragment
and tracking parameters, and sorts the query; a URL that cannot be fetched (no host, a
scheme other than http(s), a bad port) raises `UrlError` with the reject reason code.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

from courlan import normalize_url

from transforms.errors import InputError

_SCHEMES = frozenset({"http", "https"})


class UrlError(InputError):
    """A URL that cannot be fetched; `reason` is the reject reason code."""

    STAGE = "discover"


def normalise_url(url: str, base: str | None = None) -> str:
    """One spelling per URL; raises UrlError("invalid_url" | "unsupported_scheme")."""
    text = url.strip()
    if base:
        text = urljoin(base, text)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UrlError("invalid_url", f"{url!r} is not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise UrlError("unsupported_scheme", f"{url!r}: only http and https URLs are fetched")
    if not parts.hostname or any(c.isspace() for c in text):
        raise UrlError("invalid_url", f"{url!r} has no host or contains spaces")
    try:
        return normalize_url(urlunsplit((scheme, parts.netloc, parts.path, parts.query, "")), strict=False)
    except (ValueError, AttributeError) as exc:
        raise UrlError("invalid_url", f"{url!r} is not a valid URL ({exc})") from exc
