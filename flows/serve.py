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

Stopping (SIGTERM or Ctrl-C) cancels the run in progress, which ends Cancelled with the
signal in its message (its concurrency slot freed at once), and exits within seconds; a
second signal forces it. The schedules stay active (`pause_on_shutdown=False`): the next
`newsdesk serve` picks them up again, and the UI never shows a deployment paused only
because its server process was restarted. On start, runs missed while nothing served
them are cancelled but the latest `catch_up`, and deployments whose schedule has left
newsdesk.toml are paused, saying so.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flows import stopping
from flows.parameters import flow_parameters as settings_parameters
from flows.settings import ScheduleConfig, Settings, configure_prefect_environment
from transforms.errors import ConfigError

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


def _stopping_runner(announce: Callable[[str], None]) -> Any:
    """Prefect's Runner, stopped the same way by SIGTERM and SIGINT, within `EXIT_WITHIN_S`.

    The first signal cancels the run in progress (it ends Cancelled, saying which signal,
    and its concurrency slot is released by that final state) and lets the runner return;
    a second signal, or a stop that overruns, kills every child process and exits at once.
    """
    from prefect.runner import Runner

    class StoppingRunner(Runner):
        reason = "SIGTERM"

        def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
            signum = args[0] if args and isinstance(args[0], int) else signal.SIGTERM
            self.reason = stopping.signal_name(signum)
            if not stopping.begin_stop(self.reason, on_overrun=self.force):
                self.force(self.reason)
            announce(f"newsdesk: {self.reason}: cancelling the run in progress and stopping "
                     f"(again to force)")
            super().handle_sigterm(*args, **kwargs)

        def force(self, reason: str) -> None:
            """A second signal, or a stop over its deadline: kill the runs' processes, record them Cancelled, exit."""
            runs = list(self._process_manager.flow_run_ids())
            stopping.kill_all([pid for pid in stopping.descendants(os.getpid())])
            cancel_runs_now(runs, f"stopped by {reason}: `newsdesk serve` was stopped during the run (forced)")
            stopping.force_exit(reason)

        async def cancel_all(self) -> None:
            await self._cancellation_manager.cancel_all(
                state_msg=f"stopped by {self.reason}: `newsdesk serve` was stopped during the run")

    return StoppingRunner(pause_on_shutdown=False, limit=1)


def serve_deployments(settings: Settings, announce: Callable[[str], None] = _to_stderr) -> None:
    """Serve `ingest-news` on the configured schedules until SIGTERM or Ctrl-C.

    Needs a running Prefect server (PREFECT_API_URL); raises ConfigError (a PermanentError), one line,
    when none is configured or reachable, or when the schedules are invalid.
    """
    configure_prefect_environment()
    check_schedules(settings.schedules)
    url = check_server()
    stopping.start_lifeline()
    from prefect.exceptions import TerminationSignal

    runner = _stopping_runner(announce)
    deployment_ids = [runner.add_deployment(d) for d in build_deployments(settings)]
    for schedule in settings.schedules:
        announce(f"newsdesk: serving {FLOW_NAME}/{schedule.name} on cron {schedule.cron!r} ({schedule.timezone})")
    for line in pause_removed_deployments([s.name for s in settings.schedules]):
        announce(f"newsdesk: {line}")
    for line in cancel_missed_runs(deployment_ids, settings.catch_up):
        announce(f"newsdesk: {line}")
    announce(f"newsdesk: Prefect API {url}; stop with Ctrl-C or SIGTERM (schedules stay active)")
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, runner.handle_sigterm)  # Ctrl-C stops like SIGTERM: runs end Cancelled
    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal):
        pass
    announce(f"newsdesk: stopped serving{f' ({runner.reason})' if stopping.stopping() else ''}; "
             f"schedules remain active")
    if stopping.stopping():
        stopping.leave(0)  # the run is Cancelled and the runner done: no waiting on exit handlers


def cancel_runs_now(flow_run_ids: list[Any], message: str) -> None:
    """Record runs Cancelled whatever their state (their processes are gone), freeing their concurrency slots."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled

    try:
        with get_client(sync_client=True) as client:
            for flow_run_id in flow_run_ids:
                current = client.read_flow_run(flow_run_id)
                if current.state is None or not current.state.is_final():
                    client.set_flow_run_state(flow_run_id, Cancelled(message=message), force=True)
    except Exception as err:  # noqa: BLE001 - the exit goes on; the server marks the runs crashed later
        _to_stderr(f"newsdesk: could not record the runs as Cancelled: {err}")


def pause_removed_deployments(names: list[str]) -> list[str]:
    """Pause the newsdesk deployments whose schedule left newsdesk.toml, and cancel their pending runs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags, FlowFilter, FlowFilterName

    lines = []
    with get_client(sync_client=True) as client:
        deployments = client.read_deployments(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])),
            deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=["newsdesk"])))
        for deployment in deployments:
            if deployment.name in names or deployment.paused:
                continue
            client.pause_deployment(deployment.id)
            cancelled = _cancel_runs(client, _pending_runs(client, deployment.id),
                                     f"its schedule {deployment.name!r} is no longer in newsdesk.toml")
            lines.append(f"paused {FLOW_NAME}/{deployment.name}: its schedule is no longer in newsdesk.toml "
                         f"({cancelled} pending runs cancelled; delete it with "
                         f"`prefect deployment delete {FLOW_NAME}/{deployment.name}`)")
    return lines


def cancel_missed_runs(deployment_ids: list[Any], catch_up: int) -> list[str]:
    """After downtime: keep the `catch_up` latest Late runs of each deployment, cancel the older ones."""
    from prefect.client.orchestration import get_client

    lines = []
    now = datetime.now(timezone.utc)
    with get_client(sync_client=True) as client:
        for deployment_id in deployment_ids:
            missed = [r for r in _pending_runs(client, deployment_id)
                      if r.expected_start_time is not None and r.expected_start_time < now]
            missed.sort(key=lambda r: r.expected_start_time, reverse=True)
            older = missed[max(0, catch_up):]
            if older:
                n = _cancel_runs(client, older, f"missed while `newsdesk serve` was down; catch_up = {catch_up} "
                                                f"starts only the latest {catch_up}")
                lines.append(f"cancelled {n} missed runs older than the latest {catch_up} (catch_up)")
    return lines


def _pending_runs(client: Any, deployment_id: Any) -> list[Any]:
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    return list(client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))),
        limit=200))


def _cancel_runs(client: Any, runs: list[Any], why: str) -> int:
    from prefect.states import Cancelled

    for run in runs:
        client.set_flow_run_state(run.id, Cancelled(message=f"not run: {why}"), force=True)
    return len(runs)
