"""Start-up cost of `newsdesk run`: cold Prefect home, warm home, and a running server.

Runs the real CLI in a subprocess on a copy of seeds/ (fresh warehouse and lake each
time, so every run does the same pipeline work) in three set-ups:
  cold    a fresh PREFECT_HOME: the in-process (ephemeral) API server creates and
          migrates its SQLite database, then starts;
  warm    the same home again: the database exists, the ephemeral server still starts;
  server  PREFECT_API_URL set to a `prefect server start` this script launched first
          (its own start-up is shown on a separate line; users pay it once);
  server, no API URL  the same server, PREFECT_API_URL unset: `newsdesk run` finds it
          with its health check of the configured local address (here its port).
Each wall time is split with the flow run's own record (read from the Prefect
database in SQLite after the run):
  start-up  process launch -> flow run Running (the flow body starts right after);
  pipeline  flow run Running -> flow run end (all tasks, spaCy load included);
  after     flow run end -> process exit (CLI report queries, engine shutdown).
`imports only` is the floor of any start-up (importing the CLI and the flow module);
`ephemeral API only` times Prefect's in-process API server alone on the warm home,
the part of the cold/warm start-up that a running server removes.

    .venv/bin/python -m bench.startup            # about 3 minutes on 2 busy cores
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import httpx

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER_START_S = 300.0
RUN_TIMEOUT_S = 900.0


@dataclass
class Timing:
    name: str
    wall_s: float
    startup_s: float | None = None
    pipeline_s: float | None = None
    after_s: float | None = None
    tasks: int | None = None
    note: str = ""


def _env(home: Path, api_url: str | None = None, detect_port: int | None = None) -> dict[str, str]:
    """The environment of one set-up: the in-process API unless `api_url` is given or `detect_port` (a server
    on that port of 127.0.0.1, found by `newsdesk run`'s auto-detection without PREFECT_API_URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSDESK_PREFECT_SERVER"))}
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"})
    if api_url:
        env["PREFECT_API_URL"] = api_url
    if detect_port:
        env["PREFECT_SERVER_API_PORT"] = str(detect_port)
    else:  # never a server someone runs on the documented address: the in-process set-ups stay in-process
        env["NEWSDESK_PREFECT_SERVER"] = "in-process"
    return env


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def _flow_run_id(warehouse: Path) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return str(con.execute("SELECT flow_run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchall()[0][0])
    finally:
        con.close()


def _flow_run_record(db: Path, flow_run_id: str) -> tuple[float | None, float | None, int]:
    """(start, end, task runs) of a flow run, from a Prefect SQLite database."""
    con = sqlite3.connect(db, timeout=30)
    try:
        start, end = con.execute("SELECT start_time, end_time FROM flow_run WHERE id = ?", (flow_run_id,)).fetchone()
        tasks = con.execute("SELECT count(*) FROM task_run WHERE flow_run_id = ?", (flow_run_id,)).fetchone()[0]
    finally:
        con.close()
    return _epoch(start), _epoch(end), int(tasks)


def time_imports() -> Timing:
    began = time.time()
    subprocess.run([sys.executable, "-c", "import flows.cli, flows.ingest"], cwd=REPO, check=True,
                   env=_env(Path(tempfile.mkdtemp(prefix="newsdesk-bench-home-"))))
    return Timing("imports only", time.time() - began, note="python -c 'import flows.cli, flows.ingest'")


EPHEMERAL_CODE = """
import time
began = time.time()
from prefect.server.api.server import SubprocessASGIServer
server = SubprocessASGIServer()
server.start(timeout=300)
print(time.time() - began)
server.stop()
"""


def time_ephemeral_server(home: Path) -> Timing:
    """What `newsdesk run` waits for before its flow can start: Prefect's in-process API server."""
    done = subprocess.run([sys.executable, "-c", EPHEMERAL_CODE], cwd=REPO, env=_env(home), capture_output=True,
                          text=True, timeout=RUN_TIMEOUT_S, check=True)
    return Timing("  ephemeral API only", float(done.stdout.strip().splitlines()[-1]),
                  note="warm home: SubprocessASGIServer().start() until /api/health answers")


def time_run(name: str, seeds: Path, work: Path, home: Path, db: Path, api_url: str | None = None,
             detect_port: int | None = None) -> Timing:
    out = work / name
    out.mkdir()
    warehouse = out / "w.duckdb"
    cmd = [str(BIN / "newsdesk"), "run", "--seeds", str(seeds), "--warehouse", str(warehouse),
           "--lake", str(out / "lake"), "--workers", "1"]
    began = time.time()
    done = subprocess.run(cmd, cwd=REPO, env=_env(home, api_url, detect_port), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    ended = time.time()
    if done.returncode not in (0, 1):
        sys.exit(f"bench.startup: {name}: newsdesk run exited {done.returncode}:\n{done.stderr[-2000:]}")
    start, end, tasks = _flow_run_record(db, _flow_run_id(warehouse))
    if start is None or end is None:
        return Timing(name, ended - began, note="flow run has no start/end time")
    return Timing(name, ended - began, start - began, end - start, ended - end, tasks)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(home: Path) -> tuple[subprocess.Popen[bytes], str, Timing]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    began = time.time()
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=REPO, env=_env(home), stdout=log, stderr=subprocess.STDOUT)
    while time.time() - began < SERVER_START_S:
        if proc.poll() is not None:
            sys.exit(f"bench.startup: prefect server exited {proc.returncode}; see {home / 'server.log'}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url, Timing("server start (once)", time.time() - began, note="fresh home, until "
                                                                                          "/api/health answers")
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    sys.exit(f"bench.startup: prefect server not healthy after {SERVER_START_S:.0f} s")


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def render(timings: list[Timing], seeds: int) -> str:
    head = f"{'set-up':<22}{'wall s':>8}{'start-up s':>12}{'pipeline s':>12}{'after s':>9}{'tasks':>7}  note"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [f"newsdesk run on {seeds} seed files, --workers 1 (seconds, wall clock; {os.cpu_count()} cores, "
             f"load average {load} at the end)", head, "-" * len(head)]
    for t in timings:
        lines.append(f"{t.name:<22}{_fmt(t.wall_s):>8}{_fmt(t.startup_s):>12}{_fmt(t.pipeline_s):>12}"
                     f"{_fmt(t.after_s):>9}{'' if t.tasks is None else t.tasks:>7}  {t.note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=Path, default=REPO / "seeds", help="seed folder (copied)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-startup-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        seeds = work / "seeds"
        shutil.copytree(args.seeds, seeds)
        n_seeds = len([p for p in seeds.iterdir() if p.is_file() and p.name != "README.md"])
        timings = [time_imports()]
        home = work / "home-ephemeral"
        home.mkdir()
        for name in ("cold home", "warm home"):
            timings.append(time_run(name, seeds, work, home, home / "prefect.db"))
        timings.append(time_ephemeral_server(home))
        server_home, client_home = work / "home-server", work / "home-client"
        server_home.mkdir()
        client_home.mkdir()
        server, url, started = start_server(server_home)
        timings.append(started)
        timings.append(time_run("running server", seeds, work, client_home, server_home / "prefect.db", url))
        port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
        detected = time_run("server, no API URL", seeds, work, client_home, server_home / "prefect.db",
                            detect_port=port)
        detected.note = "server running, no PREFECT_API_URL: found by the health check"
        timings.append(detected)
        print(render(timings, n_seeds))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
