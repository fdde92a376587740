"""Children never outlive newsdesk: real processes, killed for real (Linux /proc)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows import analyse, stopping
from tests.conftest import REPO, SEED_TXT
from transforms.models import Document

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)")


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(stopping.alive(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if stopping.alive(p)]


def _parent(code: str) -> tuple[subprocess.Popen[str], list[int]]:
    """A Python process running `code`, which prints its children's PIDs on one line and then waits."""
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip(), f"parent exited with {proc.poll()}"
    return proc, [int(pid) for pid in line.split()]


def test_descendants_lists_the_whole_tree() -> None:
    proc, [child] = _parent("import subprocess, sys, time\n"
                            "c = subprocess.Popen(['sleep', '60']); print(c.pid, flush=True); time.sleep(60)")
    try:
        assert stopping.descendants(proc.pid) == [child]
        assert child in stopping.descendants(os.getpid())
    finally:
        stopping.kill_all([child, proc.pid])
        proc.wait()


def test_the_lifeline_kills_the_children_of_a_sigkilled_parent() -> None:
    proc, [child] = _parent("import subprocess, time\nfrom flows import stopping\nstopping.start_lifeline()\n"
                            "c = subprocess.Popen(['sleep', '600']); time.sleep(2.5)  # the lifeline has seen it\n"
                            "print(c.pid, flush=True); time.sleep(600)")
    lifeline = [p for p in stopping.descendants(proc.pid) if p != child]
    assert lifeline, "no lifeline process"
    proc.kill()  # SIGKILL: no handler, no atexit
    proc.wait()
    assert _gone_within([child, *lifeline], 10) == []


def test_pool_workers_exit_when_their_parent_is_sigkilled() -> None:
    proc, workers = _parent("import time\nfrom flows.analyse import get_pool\npool = get_pool(2)\n"
                            "list(pool.map(time.sleep, [0.5, 0.5]))\n"
                            "print(*sorted(pool._processes), flush=True); time.sleep(600)")
    assert workers
    proc.kill()
    proc.wait()
    assert _gone_within(workers, 10) == []


def test_a_dead_worker_fails_the_batch_with_a_reason_and_the_next_pool_is_fresh() -> None:
    docs = [Document(f"{i}.txt", "seed", SEED_TXT.read_bytes(), "text/plain") for i in range(8)]
    pool = analyse.get_pool(2)
    assert pool is not None
    try:
        list(pool.map(abs, [1, 2]))  # workers started
        victim = next(iter(pool._processes))  # type: ignore[attr-defined]
        os.kill(victim, signal.SIGKILL)
        _gone_within([victim], 5)
        with pytest.raises(analyse.WorkerDied, match="NLP worker process died during extraction"):
            analyse.extract_in_pool(pool, docs)
        fresh = analyse.get_pool(2)
        assert fresh is not pool
        articles, rejects = analyse.extract_in_pool(fresh, docs)
        assert len(articles) == 8 and rejects == []
    finally:
        analyse.stop_pools()


@pytest.mark.slow
def test_newsdesk_run_sigkilled_leaves_no_process(tmp_path: Path) -> None:
    """`newsdesk run` killed outright mid-run: its API server, pool workers and resource tracker go too."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for i in range(8):
        for path in (REPO / "seeds").iterdir():
            if path.name != "README.md":
                (seeds / f"{i}_{path.name}").write_bytes(path.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update({"PREFECT_HOME": str(tmp_path / "home"), "NEWSDESK_PREFECT_SERVER": "in-process"})
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--seeds", str(seeds), "--warehouse",
                             str(tmp_path / "w.duckdb"), "--lake", str(tmp_path / "lake"), "--workers", "2",
                             "--batch-size", "4"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while not list((tmp_path / "lake").rglob("*.parquet")) and time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            time.sleep(0.5)
        time.sleep(1.5)  # the lifeline has seen the pool workers
        tree = stopping.descendants(proc.pid)
        assert len(tree) >= 4, tree  # lifeline, API server, two pool workers (+ resource tracker)
    finally:
        proc.kill()
        proc.wait()
    assert _gone_within(tree, 10) == []
