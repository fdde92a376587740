"""One exception family for the whole pipeline (after dlt's per-stage exceptions).

`TransientError` is worth a retry (timeouts, 429, 5xx, a locked warehouse);
`PermanentError` is bad input or configuration that a retry will not fix.
Messages name the url/article/file concerned and say what to do.
"""

from __future__ import annotations


class NewsdeskError(Exception):
    """Base of every error newsdesk raises on purpose."""


class TransientError(NewsdeskError):
    """Worth retrying later."""


class PermanentError(NewsdeskError):
    """Retrying will not help: fix the input or the configuration."""
