"""`newsdesk serve`: the `ingest-news` flow as Prefect deployments on cron schedules.

One deployment per `[[schedules]]` entry in newsdesk.toml, named by the entry, with
a time-zone-aware `Cron` schedule. The flow's parameters get their defaults from the
settings, so they can be edited per run in the Prefect UI.

Runs never overlap, at two levels:
- the serving process runs at most one flow run at a time (`limit=1`), so the
  deployments of different schedules take turns: a run that comes due while another
  is running waits (Prefect marks it Late) and starts when the first one ends;
- each deployment also carries a server-side concurrency limit of 1 with
  `CANCEL_NEW`, which holds even when a second `newsdesk serve` (another shell, another
  machine) serves the same deployment: the server cancels the newcomer instead of
  letting two runs write the warehouse at once or piling up a backlog.
A per-deployment limit cannot span deployments and a global limit would need the
flow itself to take a slot, so the runner limit is what serialises the schedules.

Stopping (SIGTERM or Ctrl-C) leaves the schedules active (`pause_on_shutdown=False`):
the next `newsdesk serve` picks them up again, and the UI never shows a deployment
paused only because its server process was restarted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flows.settings import ConfigError, ScheduleConfig, Settings, configure_prefect_environment

FLOW_NAME = "ingest-news"
SERVER_HINT = "run `make server` and set PREFECT_API_URL=http://127.0.0.1:4200/api"


def _absolute(path: Path | str) -> str:
    text = str(path)
    if "://" in text:  # an object-storage URL (s3://...) stays as given
        return text
    return str(Path(text).expanduser().resolve())


def to_parameters(settings: Settings, schedule: ScheduleConfig, flow_parameters: set[str]) -> dict[str, Any]:
    """The flow parameters a deployment starts from (editable per run in the UI).

    The same parameters `newsdesk run` passes, with local paths made absolute (served
    runs must not depend on the working directory); `groups` only if the flow takes it.
    """
    from flows.cli import flow_parameters as settings_parameters

    parameters = settings_parameters(settings)
    for key in ("seeds", "warehouse", "lake_url", "raw"):
        if parameters.get(key):
            parameters[key] = _absolute(parameters[key])
    if schedule.groups:
        parameters["groups"] = list(schedule.groups)
    return {key: value for key, value in parameters.items() if key in flow_parameters}


def check_schedules(schedules: list[ScheduleConfig]) -> None:
    """Fail with one line on an empty, duplicated or invalid schedule list."""
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    if not schedules:
        raise ConfigError("no schedules configured: add a [[schedules]] entry (name, cron, timezone) "
                             "to newsdesk.toml")
    names = [s.name for s in schedules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"schedule names must be unique (one deployment each): {', '.join(duplicates)}")
    for s in schedules:
        if not s.name or "/" in s.name or "%" in s.name:
            raise ConfigError(f"schedule name {s.name!r} must be non-empty, without '/' or '%'")
        try:
            CronSchedule(cron=s.cron, timezone=s.timezone)
        except ValidationError as err:
            reason = str(err.errors()[0]["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"schedule {s.name!r}: {reason}") from None


def check_server() -> str:
    """Return the configured Prefect API URL, or fail with one line saying how to start one."""
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise ConfigError(f"`newsdesk serve` needs a running Prefect server: {SERVER_HINT}")
    with get_client(sync_client=True) as client:
        failure = client.api_healthcheck()
    if failure is not None:
        raise ConfigError(f"cannot reach the Prefect server at {url} ({type(failure).__name__}): {SERVER_HINT}")
    return str(url)


def build_deployments(settings: Settings) -> list[Any]:
    """One `RunnerDeployment` of `ingest-news` per schedule entry."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.ingest import ingest_news

    flow_parameters = set(ingest_news.parameters.properties)
    deployments = []
    for schedule in settings.schedules:
        deployments.append(ingest_news.to_deployment(
            name=schedule.name,
            schedule=Cron(schedule.cron, timezone=schedule.timezone, slug=schedule.name),
            parameters=to_parameters(settings, schedule, flow_parameters),
            concurrency_limit=ConcurrencyLimitConfig(limit=1,
                                                     collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
            description=f"ingest-news on cron {schedule.cron!r} ({schedule.timezone}), served by `newsdesk serve`",
            tags=["newsdesk"],
            # imported by module name, so runs do not depend on the working directory
            entrypoint_type=EntrypointType.MODULE_PATH,
        ))
    return deployments


def _to_stderr(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def serve_deployments(settings: Settings, announce: Callable[[str], None] = _to_stderr) -> None:
    """Serve `ingest-news` on the configured schedules until SIGTERM or Ctrl-C.

    Needs a running Prefect server (PREFECT_API_URL); raises ConfigError (a PermanentError), one line,
    when none is configured or reachable, or when the schedules are invalid.
    """
    configure_prefect_environment()
    check_schedules(settings.schedules)
    url = check_server()
    from prefect import serve

    deployments = build_deployments(settings)
    for schedule in settings.schedules:
        announce(f"newsdesk: serving {FLOW_NAME}/{schedule.name} on cron {schedule.cron!r} ({schedule.timezone})")
    announce(f"newsdesk: Prefect API {url}; stop with Ctrl-C or SIGTERM (schedules stay active)")
    serve(*deployments, pause_on_shutdown=False, print_starting_message=False, limit=1)
    announce("newsdesk: stopped serving; schedules remain active")
