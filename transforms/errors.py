"""One exception family for the whole pipeline (after dlt's per-stage exceptions).

Every error newsdesk raises on purpose is a `NewsdeskError` carrying a typed
`stage` (where it happened) and `reason` (the reason code a `rejects` row gets).
`TransientError` is worth a retry (timeouts, 429, 5xx, a locked warehouse);
`PermanentError` is bad input or configuration that a retry will not fix.
Messages name the url/article/file concerned and say what to do.

`Stage` and `Reason` are the one list of the stages and reason codes the
`rejects` table holds (README, "Tables"); a test keeps the code to it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

Stage = Literal["discover", "read", "fetch", "extract", "nlp", "entities", "quotes", "load"]

Reason = Literal[
    # discover: sources, feeds, sitemaps, URL lists
    "invalid_url", "unsupported_scheme", "feed_malformed", "sitemap_malformed", "empty_feed", "sitemap_limit",
    "unreadable_file",
    # read: seed files, WARC files, the raw store
    "missing_seeds", "unreadable", "too_large", "truncated", "symlink_loop", "dangling_link", "outside_seeds",
    "not_a_file", "unsupported_file_type", "missing_warc", "warc_unreadable", "warc_missing", "warc_no_target",
    "warc_truncated", "warc_bad_http", "raw_missing",
    # fetch (also `deferred`: a fetches row only, never a reject)
    "timeout", "connection", "dns", "http_429", "http_1xx", "http_3xx", "http_4xx", "http_5xx", "decompression_bomb",
    "content_encoding", "content_type", "redirect_loop", "too_many_redirects", "bad_redirect", "too_slow",
    "private_address", "robots_disallowed", "robots_unreachable", "deferred", "internal",
    # extract: decoding and pages that are not articles
    "empty", "binary", "undecodable", "not_html", "no_article_text", "not_article_index", "paywall", "consent_wall",
    "js_shell", "extractor_error", "no_result",
    # any per-document step that raised (flows/guard.py): `<stage>_error`, or the whole batch
    "nlp_error", "entities_error", "quotes_error", "batch_error",
]

STAGES: tuple[Stage, ...] = get_args(Stage)
REASONS: tuple[Reason, ...] = get_args(Reason)


class NewsdeskError(Exception):
    """Base of every error newsdesk raises on purpose; `stage` and `reason` say where and why (None: not an input's)."""

    STAGE: ClassVar[Stage | None] = None  # a subclass's stage, unless the raise names one
    REASON: ClassVar[Reason | None] = None

    def __init__(self, *args: object, stage: Stage | None = None, reason: Reason | None = None) -> None:
        super().__init__(*args)
        self.stage: Stage | None = stage if stage is not None else self.STAGE
        self.reason: Reason | None = reason if reason is not None else self.REASON

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled across processes (the analysis pool, Prefect results) whatever the subclass's __init__ takes
        return _rebuild, (type(self), self.args, dict(self.__dict__))


def _rebuild(kind: type[NewsdeskError], args: tuple[object, ...], state: dict[str, Any]) -> NewsdeskError:
    err = kind.__new__(kind)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class TransientError(NewsdeskError):
    """Worth retrying later."""


class PermanentError(NewsdeskError):
    """Retrying will not help: fix the input or the configuration."""


class ConfigError(PermanentError):
    """The configuration is wrong (exit 2); the message says which key and how to fix it."""


class NotInstalled(PermanentError):
    """A component the configuration names (a spaCy pipeline) is not installed (exit 2, or a Failed run)."""


class InputError(PermanentError, ValueError):
    """One input that cannot be processed: it becomes a `rejects` row (stage, reason, message)."""

    reason: Reason

    def __init__(self, reason: Reason, message: str, *, stage: Stage | None = None) -> None:
        super().__init__(message, stage=stage, reason=reason)


class TooSlow(PermanentError):
    """A document went over its time budget (`too_slow`, at the stage it was in)."""

    REASON = "too_slow"


class FetchError(NewsdeskError):
    """A URL that could not be fetched; `retry_after` is the server's Retry-After, in seconds."""

    STAGE = "fetch"
    reason: Reason

    def __init__(self, reason: Reason, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, reason=reason)
        self.retry_after = retry_after

    @property
    def error_class(self) -> Reason:
        """The `fetches.error_class` (the reject's reason)."""
        return self.reason


class FetchRetryable(FetchError, TransientError):
    """A fetch failure another attempt may get past (no connection, 429, 502/503/504)."""


class FetchFailed(FetchError, PermanentError):
    """A fetch failure that will be the same next time in this run."""


def fetch_error(reason: Reason, message: str, transient: bool = False, retry_after: float | None = None) -> FetchError:
    """A `FetchRetryable` when `transient`, else a `FetchFailed`."""
    return (FetchRetryable if transient else FetchFailed)(reason, message, retry_after)
