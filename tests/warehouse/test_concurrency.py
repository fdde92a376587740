"""Readers and writers in other processes: the loader waits, then loads whole or fails clearly.

What DuckDB 2.0 allows between processes (checked by the first test): one process
with a read-write connection, or any number of processes with read-only ones.
A read-only reader therefore blocks a writer just as another writer does, and
the process that cannot get the file lock fails at once with "Could not set lock
on file ... Conflicting lock is held in <program> (PID n)". (Inside one process
any number of connections share one database instance.) `connect` turns that
into a wait with exponential backoff and, past its timeout, `WarehouseBusy`,
before any row is touched.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.warehouse.crash_child import Batch, merge, small_batch, write_and_load
from transforms.models import Analysis, RunRecord
from warehouse import arrow, lake
from warehouse.load import WarehouseBusy, connect, load_run, query_checks, query_counts, query_run_ids

CHILD = Path(__file__).with_name("crash_child.py")
AT = datetime(2025, 3, 1, 6, tzinfo=timezone.utc)
HOLDER = (
    "import duckdb, sys\n"
    "con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro')\n"
    "con.execute('SELECT count(*) FROM articles').fetchall()\n"
    "print('held', flush=True)\n"
    "sys.stdin.readline()\n"
    "con.close()\n"
)


@contextmanager
def held(path: Path, mode: str) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the warehouse open (`ro` or `rw`) until the block ends or it is released."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held", proc.stderr
        yield proc
    finally:
        release(proc)


def release(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(timeout=60)


def _reference(tmp_path: Path, runs: list[tuple[str, list[Batch]]]) -> dict[str, int]:
    folder = tmp_path / "reference"
    folder.mkdir()
    for run_id, batches in runs:
        write_and_load(folder, run_id, batches, AT)
    con = duckdb.connect(str(folder / "w.duckdb"), read_only=True)
    try:
        return query_counts(con)
    finally:
        con.close()


def _sound(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert not {k: n for k, n in query_checks(con).items() if n}
        return query_counts(con)
    finally:
        con.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse holding a first run."""
    folder = tmp_path / "w"
    folder.mkdir()
    write_and_load(folder, "run-1", [small_batch("one", 4)], AT)
    return folder


def _try(path: Path, read_only: bool) -> str:
    try:
        duckdb.connect(str(path), read_only=read_only).close()
        return "ok"
    except duckdb.IOException as err:
        assert "Could not set lock on file" in str(err) and "Conflicting lock is held" in str(err), err
        return "locked"


def test_duckdb_allows_many_readers_or_one_writer_across_processes(warehouse: Path) -> None:
    path = warehouse / "w.duckdb"
    with held(path, "ro"):
        assert (_try(path, read_only=True), _try(path, read_only=False)) == ("ok", "locked")
    with held(path, "rw"):
        assert (_try(path, read_only=True), _try(path, read_only=False)) == ("locked", "locked")
    assert _try(path, read_only=False) == "ok"


@pytest.mark.parametrize("mode", ["ro", "rw"])
def test_the_loader_waits_for_a_reader_that_lets_go_and_loads_everything(warehouse: Path, tmp_path: Path,
                                                                         mode: str) -> None:
    second = [small_batch("two", 5, shared=2)]
    expected = _reference(tmp_path, [("run-1", [small_batch("one", 4)]), ("run-2", second)])
    result: dict[str, Any] = {}

    def load() -> None:
        started = time.monotonic()
        result["added"] = write_and_load(warehouse, "run-2", second, AT, lock_timeout_s=60)[0]
        result["waited"] = time.monotonic() - started

    with held(warehouse / "w.duckdb", mode) as holder:
        loader = threading.Thread(target=load)
        loader.start()
        time.sleep(2.0)
        assert loader.is_alive() and "added" not in result, "the loader did not wait for the reader"
        release(holder)
        loader.join(timeout=60)
    assert result["waited"] >= 2.0
    assert _sound(warehouse / "w.duckdb") == expected


@pytest.mark.parametrize("mode", ["ro", "rw"])
def test_a_reader_that_stays_makes_the_load_fail_clearly_and_touch_nothing(warehouse: Path, tmp_path: Path,
                                                                           mode: str) -> None:
    second = [small_batch("two", 5)]
    expected = _reference(tmp_path, [("run-1", [small_batch("one", 4)]), ("run-2", second)])
    path = warehouse / "w.duckdb"
    before = _sound(path)
    with held(path, mode):
        started = time.monotonic()
        busy = r"w\.duckdb is held by another process \(python[\w.]*, PID \d+\) .* close it and run again"
        with pytest.raises(WarehouseBusy, match=busy):
            write_and_load(warehouse, "run-2", second, AT, lock_timeout_s=1.5)
        assert 1.5 <= time.monotonic() - started < 20
        if mode == "rw":
            with pytest.raises(WarehouseBusy):
                connect(path, timeout_s=0.3, read_only=True)  # `newsdesk sql` during a load: same answer
    assert _sound(path) == before
    # The flow's retry (same run id; its parts are still in the lake) loads the whole run.
    fs, root = lake.lake_filesystem(str(warehouse / "lake"))
    con = connect(path, timeout_s=5)
    try:
        load_run(con, RunRecord("run-2", AT), lake.read_run(fs, root, "run-2"))
    finally:
        con.close()
    assert _sound(path) == expected


def test_two_writers_at_once_both_load_whole(warehouse: Path, tmp_path: Path) -> None:
    """Two flow runs in two processes on one warehouse and lake: one waits for the other, nothing is lost."""
    a, b = [small_batch("a", 30, shared=10)], [small_batch("b", 30, shared=10)]
    expected = _reference(tmp_path, [("run-1", [small_batch("one", 4)]), ("run-a", a), ("run-b", b)])
    for name, batches in (("a.pkl", a), ("b.pkl", b)):
        with open(warehouse / name, "wb") as handle:
            pickle.dump((batches, AT), handle)
    procs = [subprocess.Popen([sys.executable, str(CHILD), str(warehouse), f"run-{x}", "plain", f"{x}.pkl"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for x in "ab"]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-3000:]
    assert _sound(warehouse / "w.duckdb") == expected
    con = duckdb.connect(str(warehouse / "w.duckdb"), read_only=True)
    assert sorted(query_run_ids(con)) == ["run-1", "run-a", "run-b"]
    con.close()


def test_one_runs_lake_cleaning_spares_the_parts_of_a_run_still_going(warehouse: Path, tmp_path: Path) -> None:
    """Run B has written its parts but not loaded them when run A finishes and sweeps the lake."""
    b = [small_batch("b", 6), small_batch("b2", 3)]
    expected = _reference(tmp_path, [("run-1", [small_batch("one", 4)]), ("run-a", [small_batch("a", 3)]),
                                     ("run-b", b)])
    fs, root = lake.lake_filesystem(str(warehouse / "lake"))
    for part, batch in enumerate(b):
        tables = arrow.run_tables("run-b", AT, batch.articles, batch.raw_hashes, Analysis(batch.mentions, batch.entities, batch.quotes), batch.rejects,
                                 batch.fetches)
        lake.write_part(fs, root, "run-b", part, tables)
    write_and_load(warehouse, "run-a", [small_batch("a", 3)], AT)  # loads, then lake.remove_runs(...)
    con = connect(warehouse / "w.duckdb", timeout_s=5)
    try:
        added, _ = load_run(con, RunRecord("run-b", AT), lake.read_run(fs, root, "run-b"))
    finally:
        con.close()
    assert added["articles"] == len(merge(b).articles)
    assert _sound(warehouse / "w.duckdb") == expected
