"""`serve_deployments` against a real local Prefect server (own PREFECT_HOME and port).

The server and the serving process run in subprocesses; the test talks to the server
through Prefect's client. It does not use the session `prefect_harness`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import httpx
import pytest

from flows.report import CHECKS_KEY, PROGRESS_KEY, REPORT_KEY, SUMMARY_KEY
from flows import stopping
from flows.parameters import flow_parameters
from flows.serve import build_deployments, check_schedules, to_parameters
from flows.settings import ScheduleConfig, Settings
from tests.conftest import REPO, SEEDS
from transforms.errors import PermanentError

SCHEDULE = {"name": "nightly-paris", "cron": "30 2 * * *", "timezone": "Europe/Paris"}
DEPLOYMENT = f"ingest-news/{SCHEDULE['name']}"
SERVER_START_S = 420.0
REGISTER_S = 180.0
RUN_S = 360.0
T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(what: str, probe: Callable[[], T | None], timeout_s: float, proc: subprocess.Popen[bytes],
              log: Path, every_s: float = 1.0) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what}: process exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        value = probe()
        if value is not None:
            return value
        time.sleep(every_s)
    pytest.fail(f"{what}: not after {timeout_s:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real `prefect server start` on a free port with a fresh home; always terminated."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    })
    log = home / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        def healthy() -> bool | None:
            try:
                return True if httpx.get(f"{url}/health", timeout=2).status_code == 200 else None
            except httpx.HTTPError:
                return None

        _wait_for("prefect server /api/health", healthy, SERVER_START_S, proc, log)
        yield {**env, "PREFECT_API_URL": url}
    finally:
        _stop(proc)


@contextmanager
def _client(url: str) -> Iterator[Any]:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        yield client


def _start_serving(env: dict[str, str], root: Path) -> tuple[subprocess.Popen[bytes], Path]:
    (root / "newsdesk.toml").write_text(
        f'seeds = "seeds"\nwarehouse = "w.duckdb"\nlake = "lake"\nworkers = 1\n\n'
        f'[[schedules]]\nname = "{SCHEDULE["name"]}"\ncron = "{SCHEDULE["cron"]}"\n'
        f'timezone = "{SCHEDULE["timezone"]}"\n', encoding="utf-8")
    log = root / "serve.log"
    code = "from flows.serve import serve_deployments; from flows.settings import load_settings; " \
           "serve_deployments(load_settings())"
    serve_env = {**env, "PREFECT_RUNNER_POLL_FREQUENCY": "2", "PYTHONPATH": str(REPO)}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=root, env=serve_env,
                                stdout=out, stderr=subprocess.STDOUT)
    return proc, log


@pytest.mark.slow
def test_serve_runs_on_a_real_server_and_stops_cleanly(prefect_server: dict[str, str],
                                                       tmp_path: Path) -> None:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    url = prefect_server["PREFECT_API_URL"]
    shutil.copytree(SEEDS, tmp_path / "seeds")
    proc, log = _start_serving(prefect_server, tmp_path)
    try:
        with _client(url) as client:
            def registered() -> Any:
                try:
                    deployment = client.read_deployment_by_name(DEPLOYMENT)
                except Exception:  # noqa: BLE001 - not registered yet
                    return None
                return deployment if deployment.schedules else None

            deployment = _wait_for("deployment registered", registered, REGISTER_S, proc, log, every_s=2)
            [schedule] = deployment.schedules
            assert schedule.active and schedule.schedule.cron == SCHEDULE["cron"]
            assert schedule.schedule.timezone == SCHEDULE["timezone"]
            assert deployment.parameters["seeds"] == str((tmp_path / "seeds").resolve())
            assert deployment.parameters["warehouse"] == str((tmp_path / "w.duckdb").resolve())
            assert deployment.parameters["workers"] == 1
            assert deployment.global_concurrency_limit is not None
            assert deployment.global_concurrency_limit.limit == 1
            assert deployment.concurrency_options is not None
            assert deployment.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW
            assert not deployment.paused

            run = client.create_flow_run_from_deployment(deployment.id)

            def finished() -> Any:
                current = client.read_flow_run(run.id)
                return current if current.state is not None and current.state.is_final() else None

            done = _wait_for("flow run finished", finished, RUN_S, proc, log, every_s=3)
            assert done.state is not None and done.state.is_completed(), \
                f"{done.state}\n{log.read_text(errors='replace')[-3000:]}"
            assert done.name.startswith("ingest-seeds-"), done.name
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
            kinds = {a.key: a.type for a in artifacts}
            assert kinds.get(SUMMARY_KEY) == "table", kinds
            assert kinds.get(REPORT_KEY) == "markdown", kinds
            assert kinds.get(CHECKS_KEY) == "table", kinds
            report = next(a for a in artifacts if a.key == REPORT_KEY)
            assert "+5 articles, 0 rejected, 0 checks failed" in (report.description or ""), report.description
            assert "## Last runs" in str(report.data) and "## Time per stage" in str(report.data)
            assert kinds.get(PROGRESS_KEY) == "progress", kinds

            con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
            try:
                articles = con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
                flow_run_ids = [r[0] for r in con.execute("SELECT flow_run_id FROM runs").fetchall()]
            finally:
                con.close()
            assert articles == len([p for p in SEEDS.iterdir() if p.name != "README.md"])
            assert flow_run_ids == [str(run.id)]

            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"serve did not stop within 60 s of SIGTERM:\n{log.read_text(errors='replace')[-3000:]}")
            output = log.read_text(errors="replace")
            assert proc.returncode == 0, output[-3000:]
            assert "Traceback" not in output, output[-3000:]
            assert f"serving {DEPLOYMENT}" in output

            after = client.read_deployment_by_name(DEPLOYMENT)
            assert not after.paused
            assert [s.active for s in after.schedules] == [True]
    finally:
        _stop(proc)


def test_serve_without_a_server_says_how_to_start_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)})
    code = ("import sys; from flows.serve import serve_deployments; from flows.settings import Settings\n"
            "from transforms.errors import PermanentError\n"
            "try:\n    serve_deployments(Settings(schedules=[{'name': 'hourly'}]))\n"
            "except PermanentError as err:\n    print(err); sys.exit(3)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 3, done.stderr[-2000:]
    [line] = done.stdout.strip().splitlines()
    assert "make server" in line and "PREFECT_API_URL=http://127.0.0.1:4200/api" in line


@pytest.mark.parametrize("schedules, message", [
    ([], "no schedules configured"),
    ([ScheduleConfig(name="a"), ScheduleConfig(name="a")], "unique"),
    ([ScheduleConfig(cron="61 * * * *")], "Invalid cron"),
    ([ScheduleConfig(timezone="Mars/Olympus_Mons")], "Invalid timezone"),
    ([ScheduleConfig(name="a/b")], "without '/'"),
])
def test_bad_schedules_fail_with_one_line(schedules: list[ScheduleConfig], message: str) -> None:
    with pytest.raises(PermanentError, match=message) as err:
        check_schedules(schedules)
    assert "\n" not in str(err.value)


def test_one_deployment_per_schedule_with_settings_as_parameters(tmp_path: Path) -> None:
    settings = Settings(seeds=tmp_path / "s", warehouse=tmp_path / "w.duckdb", lake="s3://bucket/lake",
                        workers=3, batch_size=7, s3_endpoint_url="http://127.0.0.1:9000",
                        schedules=[ScheduleConfig(name="hourly", cron="0 * * * *"),
                                   ScheduleConfig(name="morning", cron="0 7 * * 1-5", timezone="America/New_York",
                                                  groups=["wires"])])
    deployments = build_deployments(settings)
    assert [d.name for d in deployments] == ["hourly", "morning"]
    morning = deployments[1]
    [schedule] = morning.schedules
    assert schedule.schedule.cron == "0 7 * * 1-5" and schedule.schedule.timezone == "America/New_York"
    assert morning.concurrency_limit == 1
    assert morning.entrypoint == "flows.ingest.ingest_news"
    assert morning.parameters["seeds"] == str(tmp_path / "s")
    assert morning.parameters["lake_url"] == "s3://bucket/lake"
    assert morning.parameters["storage_options"] == settings.storage_options() != {}
    assert (morning.parameters["workers"], morning.parameters["batch_size"]) == (3, 7)
    assert morning.parameters["force"] is False
    # the same parameters as `newsdesk run`, local paths made absolute
    assert set(morning.parameters) == set(flow_parameters(settings)) | {"groups"}
    # a schedule's groups limit its runs to those groups' sources; without groups, every source
    assert morning.parameters["groups"] == ["wires"]
    assert "groups" not in deployments[0].parameters
    params = to_parameters(settings, settings.schedules[1], {"seeds", "groups"})
    assert params == {"seeds": str(tmp_path / "s"), "groups": ["wires"]}


def test_relative_paths_become_absolute_and_no_seeds_stays_empty(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(seeds=None, warehouse=Path("w.duckdb"), lake="lake", raw=Path("raw"))
    params = to_parameters(settings, ScheduleConfig(), {"seeds", "warehouse", "lake_url", "raw"})
    assert params == {"seeds": "", "warehouse": str(tmp_path / "w.duckdb"), "lake_url": str(tmp_path / "lake"),
                      "raw": str(tmp_path / "raw")}


EVERY_MINUTE = "minutely"
GONE = "retired"
STOP_WITHIN_S = 10.0


def _seeds_for_seconds(root: Path, copies: int = 8) -> Path:
    """A seeds folder large enough for a run of many batches (copies of the real seeds)."""
    seeds = root / "seeds"
    seeds.mkdir()
    for i in range(copies):
        for path in SEEDS.iterdir():
            if path.name != "README.md":
                shutil.copy(path, seeds / f"{i}_{path.name}")
    return seeds


def _write_config(root: Path, schedules: list[tuple[str, str]]) -> None:
    text = 'seeds = "seeds"\nwarehouse = "w.duckdb"\nlake = "lake"\nworkers = 2\nbatch_size = 4\n'
    for name, cron in schedules:
        text += f'\n[[schedules]]\nname = "{name}"\ncron = "{cron}"\ntimezone = "UTC"\n'
    (root / "newsdesk.toml").write_text(text, encoding="utf-8")


def _serve(env: dict[str, str], root: Path, log: Path) -> subprocess.Popen[bytes]:
    serve_env = {**env, "PREFECT_RUNNER_POLL_FREQUENCY": "2", "PYTHONPATH": str(REPO)}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "flows.cli", "serve"], cwd=root, env=serve_env,
                                stdout=out, stderr=subprocess.STDOUT)


def _runs(client: Any, deployment_id: Any) -> list[Any]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    return list(client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))))


def _batch_logs(client: Any, flow_run_id: Any) -> list[str]:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [log.message for log in logs if log.level == 20 and log.message.startswith("batch ")]


def _stop_mid_run(client: Any, proc: subprocess.Popen[bytes], log: Path, deployment_id: Any, sig: int) -> Any:
    """Wait for a scheduled run to be mid-way (a batch logged), send `sig` to serve, check the stop; return the run."""
    def running() -> Any:
        for run in _runs(client, deployment_id):
            if run.state is not None and run.state.is_running() and _batch_logs(client, run.id):
                return run
        return None

    run = _wait_for("a scheduled run mid-way", running, RUN_S, proc, log, every_s=1)
    # the must-show log rows: INFO lines on the server with the per-batch counts
    assert any(re.fullmatch(r"batch \d+/10: 4 read, 0 rejected, 4 articles, [\d,]+ mentions, [\d,]+ quotes", line)
               for line in _batch_logs(client, run.id)), _batch_logs(client, run.id)
    assert run.name == f"ingest-seeds-{run.expected_start_time:%Y%m%d-%H%M}", (run.name, run.expected_start_time)
    tree = stopping.descendants(proc.pid)
    assert len(tree) >= 4, tree  # lifeline, flow-run process, two pool workers (and their resource tracker)
    began = time.monotonic()
    proc.send_signal(sig)
    try:
        proc.wait(timeout=STOP_WITHIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve still running {STOP_WITHIN_S:.0f} s after {sig!r}:\n{log.read_text(errors='replace')[-3000:]}")
    took = time.monotonic() - began
    output = log.read_text(errors="replace")
    # 0 when the runner finished in time; 128 + the signal when the deadline forced it (a loaded machine)
    assert proc.returncode in (0, 128 + sig), output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    deadline = time.monotonic() + 5
    while any(stopping.alive(pid) for pid in tree) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in tree if stopping.alive(pid)], f"left behind after {took:.1f} s: {tree}"
    stopped = client.read_flow_run(run.id)
    assert stopped.state is not None and stopped.state.is_cancelled(), stopped.state
    assert f"stopped by {signal.Signals(sig).name}" in (stopped.state.message or ""), stopped.state
    limit = client.read_deployment(deployment_id).global_concurrency_limit
    assert limit is not None and limit.active_slots == 0, limit  # the slot is free at once, not after its lease
    return run


@pytest.mark.slow
def test_serve_stops_cleanly_on_sigterm_and_sigint_mid_run(prefect_server: dict[str, str], tmp_path: Path) -> None:
    """SIGTERM, then SIGINT, mid-run: serve exits within 10 s, the run ends Cancelled with the reason, no process of
    the tree is left, and the next scheduled run (after a restart) is not blocked by the concurrency limit."""
    url = prefect_server["PREFECT_API_URL"]
    _seeds_for_seconds(tmp_path)
    _write_config(tmp_path, [(EVERY_MINUTE, "* * * * *"), (GONE, "0 0 1 1 *")])
    log = tmp_path / "serve.log"
    proc = _serve(prefect_server, tmp_path, log)
    try:
        with _client(url) as client:
            def registered() -> Any:
                try:
                    return client.read_deployment_by_name(f"ingest-news/{EVERY_MINUTE}")
                except Exception:  # noqa: BLE001 - not registered yet
                    return None

            deployment = _wait_for("deployment registered", registered, REGISTER_S, proc, log, every_s=2)
            first = _stop_mid_run(client, proc, log, deployment.id, signal.SIGTERM)

            _write_config(tmp_path, [(EVERY_MINUTE, "* * * * *")])  # the retired schedule leaves newsdesk.toml
            proc = _serve(prefect_server, tmp_path, log)
            second = _stop_mid_run(client, proc, log, deployment.id, signal.SIGINT)
            assert second.id != first.id and second.name != first.name
            assert client.read_deployment_by_name(f"ingest-news/{GONE}").paused
            assert f"paused ingest-news/{GONE}" in log.read_text(errors="replace")

            proc = _serve(prefect_server, tmp_path, log)

            def third_started() -> Any:
                # a later run that took the deployment's one slot (a leaked slot would cancel them all; a run
                # due while another one runs is cancelled by CANCEL_NEW, as designed)
                later = [r for r in _runs(client, deployment.id)
                         if r.expected_start_time > second.expected_start_time and r.state is not None
                         and (r.state.is_running() or r.state.is_completed())]
                return later[0] if later else None

            third = _wait_for("the next scheduled run", third_started, RUN_S, proc, log, every_s=2)
            assert third.state is not None and not third.state.is_cancelled(), third.state
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=STOP_WITHIN_S)
    finally:
        _stop(proc)


@pytest.mark.slow
def test_newsdesk_run_finds_a_local_server_without_prefect_api_url(prefect_server: dict[str, str],
                                                                  tmp_path: Path) -> None:
    """No PREFECT_API_URL: `newsdesk run` checks the configured local address, uses the server there, says so and
    prints the run's link; the run is on that server."""
    url = prefect_server["PREFECT_API_URL"]
    port = url.rsplit(":", 1)[1].split("/", 1)[0]
    (tmp_path / "prefect.toml").write_text(f'[server.api]\nhost = "127.0.0.1"\nport = {port}\n', encoding="utf-8")
    env = {k: v for k, v in prefect_server.items() if k != "PREFECT_API_URL"}
    env.update({"NEWSDESK_PREFECT_SERVER": "auto", "PYTHONPATH": str(REPO), "PREFECT_HOME": str(tmp_path / "home")})
    done = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--seeds", str(SEEDS), "--warehouse",
                           str(tmp_path / "w.duckdb"), "--lake", str(tmp_path / "lake"), "--workers", "1"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_S)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"the Prefect server found at {url}" in done.stderr, done.stderr
    [link] = re.findall(r"run in the Prefect UI: (\S+)", done.stderr)
    flow_run_id = link.rsplit("/", 1)[1]
    assert link == f"{url.removesuffix('/api')}/runs/flow-run/{flow_run_id}"
    with _client(url) as client:
        run = client.read_flow_run(flow_run_id)
    assert run.state is not None and run.state.is_completed(), run.state


def test_no_server_at_the_configured_address_means_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.prefect_api import choose_api

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    (tmp_path / "prefect.toml").write_text(f"[server.api]\nport = {_free_port()}\n", encoding="utf-8")
    api, said = choose_api(Settings(prefect_server="auto"))
    assert api is None and said.startswith("Prefect, in-process: no server answered at http://127.0.0.1:")
    assert choose_api(Settings(prefect_server="in-process")) == (None, "Prefect, in-process")
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")
    assert choose_api(Settings()) == ("http://127.0.0.1:1/api", "Prefect server http://127.0.0.1:1/api")


def test_catch_up_cancels_all_but_the_latest_missed_runs(prefect_harness: None) -> None:
    from datetime import datetime, timedelta, timezone

    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    from flows.serve import cancel_missed_runs

    @flow(name="catch-up-probe")
    def probe() -> None:
        pass

    now = datetime.now(timezone.utc)
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("catch-up-probe")
        deployment_id = client.create_deployment(flow_id=flow_id, name="every-minute")
        missed = [client.create_flow_run_from_deployment(
            deployment_id, state=Scheduled(scheduled_time=now - timedelta(minutes=m))) for m in (30, 20, 10)]
        future = client.create_flow_run_from_deployment(
            deployment_id, state=Scheduled(scheduled_time=now + timedelta(minutes=10)))
        assert cancel_missed_runs([deployment_id], catch_up=1) == [
            "cancelled 2 missed runs older than the latest 1 (catch_up)"]
        states = {run.id: client.read_flow_run(run.id).state for run in [*missed, future]}
    assert [states[run.id].is_cancelled() for run in missed] == [True, True, False]
    assert "missed while `newsdesk serve` was down" in (states[missed[0].id].message or "")
    assert states[future.id].is_scheduled()
    del probe
