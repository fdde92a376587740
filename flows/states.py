"""A run's final state says what happened, in the Prefect UI and in the CLI's exit status.

- Completed: everything loaded (exit 0).
- Completed, named "Completed with rejects": loaded, but some inputs were rejected (exit 1).
- Failed: the configuration is wrong (missing seeds folder, unreadable source list: exit 2),
  or the share of rejected inputs is over `max_reject_rate` (exit 3; what was good is loaded).
- Cancelled: stopped by SIGINT or SIGTERM, with the signal and the stage in the message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from transforms.errors import ConfigError
from transforms.errors import NewsdeskError
from transforms.models import Reject, RunSummary

if TYPE_CHECKING:  # prefect is imported when a run ends, after the CLI has set its environment
    from prefect.client.schemas.objects import State

COMPLETED_WITH_REJECTS = "Completed with rejects"
# Rejects that say the run's configuration is wrong, not that an input is bad.
CONFIG_REASONS = frozenset({"missing_seeds", "unreadable_file"})
EXIT_OK, EXIT_REJECTS, EXIT_CONFIG, EXIT_FAILED = 0, 1, 2, 3


class RunFailed(NewsdeskError):
    """The run ended Failed (exit 3); the message is the state's."""


class RunStopped(NewsdeskError):
    """The run was stopped by a signal and ended Cancelled."""

    def __init__(self, message: str, signal: str) -> None:
        super().__init__(message)
        self.signal = signal  # what stopped it (SIGINT, SIGTERM): the exit status follows it


def check_configuration(rejects: Sequence[Reject]) -> None:
    """Raise ConfigError (the run ends Failed) when a reject says the configuration is wrong."""
    wrong = [r for r in rejects if r.reason in CONFIG_REASONS]
    if wrong:
        more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
        raise ConfigError(f"{wrong[0].message}{more}")


def reject_rate(counts: Mapping[str, int]) -> float | None:
    """Rejected inputs over all the run saw (articles, unchanged inputs, rejects); None when it saw nothing."""
    seen = counts.get("rejected", 0) + counts.get("articles", 0) + counts.get("unchanged", 0)
    return counts.get("rejected", 0) / seen if seen else None


def _reasons(by_reason: Mapping[str, int], most: int = 3) -> str:
    top = list(by_reason.items())[:most]
    text = ", ".join(f"{reason.split(':', 1)[-1]} {n}" for reason, n in top)
    return text + (", ..." if len(by_reason) > most else "")


def final_state(result: RunSummary, max_reject_rate: float) -> State[Any]:
    """The state a finished run ends in, its message carrying the key numbers."""
    from prefect.states import Completed, Failed

    counts = result.counts
    articles, rejected = counts.get("articles", 0), counts.get("rejected", 0)
    added = result.added.get("articles", 0)
    rate = reject_rate(counts)
    numbers = f"{articles} articles ({added} new), {rejected} rejected"
    if rejected:
        numbers += f" ({_reasons(result.rejects_by_reason)})"
    if rate is not None and rate > max_reject_rate:
        return Failed(message=f"{rate:.0%} of inputs rejected, over max_reject_rate {max_reject_rate:g}: {numbers}; "
                              f"the good ones were loaded", data=result)
    if rejected:
        return Completed(name=COMPLETED_WITH_REJECTS, message=numbers, data=result)
    return Completed(message=numbers, data=result)


def stopped_state(reason: str, where: str) -> State[Any]:
    from prefect.states import Cancelled

    return Cancelled(message=f"stopped by {reason} while {where}")


def run_result(state: State[Any]) -> RunSummary:
    """The run summary of a finished flow state, or the error that says why there is none.

    Raises ConfigError (a wrong configuration), RunStopped (Cancelled) or RunFailed.
    A Failed run with a summary (too many rejects) returns it: the CLI still reports it.
    """
    if state.is_cancelled():
        message = state.message or "cancelled"
        reason = message.removeprefix("stopped by ").split(" ", 1)[0]
        raise RunStopped(message, reason)
    data = state.result(raise_on_failure=False)
    if isinstance(data, RunSummary):
        return data
    if isinstance(data, ConfigError):
        raise data
    raise RunFailed(f"run {state.name}: {state.message or data}")


def exit_status(state: State[Any]) -> int:
    """0 all loaded, 1 loaded with rejects, 3 failed (2, a configuration error, is raised before)."""
    if state.is_failed() or state.is_crashed():
        return EXIT_FAILED
    return EXIT_REJECTS if state.name == COMPLETED_WITH_REJECTS else EXIT_OK
