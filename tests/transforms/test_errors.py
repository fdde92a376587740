"""One exception family: typed stage and reason, transient vs permanent, and one list of reason codes."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from transforms.decoding import DecodeError, PageError
from transforms.errors import (REASONS, STAGES, ConfigError, FetchError, InputError, NewsdeskError, PermanentError,
                               TooSlow, TransientError, fetch_error)
from transforms.urls import UrlError

REPO = Path(__file__).resolve().parents[2]
# A reason code written as a literal where a reject or a reasoned error is made.
_REASON_SITES = re.compile(
    r"""(?:Reject\([^,()]+,\s*(?:STAGE|"\w+"),\s*|\breject\(|_reject\([^,()]+,\s*|(?:Error|Refused|fetch_error)\(|"""
    r"""return\s+)"([a-z][a-z0-9]*_[a-z0-9_]+|[a-z]+)",\s*f?["']""")
_STAGE_SITES = re.compile(r"""(?:Reject\([^,()]+,\s*|reject_all\([^,()]+,\s*|STAGE(?:, REASON)? = )"(\w+)\"""")


def _sources() -> list[Path]:
    return [p for folder in ("flows", "transforms", "warehouse") for p in sorted((REPO / folder).rglob("*.py"))]


def test_every_reason_code_in_the_code_is_in_the_one_list() -> None:
    found = {m.group(1): path.name for path in _sources() for m in _REASON_SITES.finditer(path.read_text())}
    assert len(found) > 40  # the scan sees the reasons (a broken pattern would see none)
    assert {code: where for code, where in found.items() if code not in REASONS} == {}


def test_every_stage_in_the_code_is_in_the_one_list() -> None:
    found = {m.group(1) for path in _sources() for m in _STAGE_SITES.finditer(path.read_text())}
    assert {"discover", "read", "fetch", "extract", "nlp"} <= found
    assert found <= set(STAGES)


def test_reasons_are_unique() -> None:
    assert len(REASONS) == len(set(REASONS))


@pytest.mark.parametrize(("error", "stage"), [(UrlError("invalid_url", "x"), "discover"),
                                              (DecodeError("binary", "x"), "extract"),
                                              (PageError("not_html", "x"), "extract")])
def test_input_errors_are_permanent_value_errors_with_their_stage(error: InputError, stage: str) -> None:
    assert isinstance(error, PermanentError) and isinstance(error, ValueError)
    assert error.stage == stage and error.reason in REASONS


def test_fetch_failures_are_transient_only_when_a_retry_can_help() -> None:
    retry = fetch_error("http_5xx", "u: HTTP 503", True, 3.0)
    final = fetch_error("http_4xx", "u: HTTP 404")
    assert isinstance(retry, TransientError) and not isinstance(retry, PermanentError)
    assert isinstance(final, PermanentError) and not isinstance(final, TransientError)
    assert (retry.stage, retry.error_class, retry.retry_after) == ("fetch", "http_5xx", 3.0)


@pytest.mark.parametrize("error", [UrlError("invalid_url", "bad"), fetch_error("timeout", "slow", True, 1.5),
                                   TooSlow("took 400 s"), ConfigError("wrong"),
                                   NewsdeskError("where", stage="nlp", reason="nlp_error")])
def test_errors_survive_a_trip_between_processes(error: NewsdeskError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert (str(back), back.stage, back.reason) == (str(error), error.stage, error.reason)
    if isinstance(error, FetchError):
        assert isinstance(back, FetchError) and back.retry_after == error.retry_after
