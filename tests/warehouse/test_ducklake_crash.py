"""SIGKILL a DuckLake run at random moments: no batch is ever half there, and a re-run completes it.

A child process (ducklake_child.py) commits a run batch by batch into a PostgreSQL-backed catalog.
It is killed ten times at random moments (seeded: the same moments on every run of this test), each
time as a new run on the same catalog, as a scheduler would start the next run. After every kill
each visible article has all of its mentions and quotes (a batch commits whole or not at all) and
the data checks pass; an uninterrupted re-run then brings the tables to exactly the rows of one
uninterrupted run on a fresh catalog (every column but the run_id a row was written by).
"""

from __future__ import annotations

import os
import pickle
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.warehouse.crash_child import small_batch
from tests.warehouse.postgres import new_database, running_postgres
from warehouse import backend
from warehouse.load import query_checks
from warehouse.schema import TABLES

pytestmark = pytest.mark.slow

CHILD = Path(__file__).with_name("ducklake_child.py")
KILLS = 10
AT = datetime(2025, 3, 1, 6, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with running_postgres() as dsn:
        yield dsn


def _child(catalog: str, folder: Path, run_id: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(CHILD), catalog, str(folder / "lake"), str(folder / "batches.pkl"),
                             run_id], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _contents(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Every row of every data table, without the run that wrote it.

    Duplicates and stories are derived per run: after kills the articles arrive over several runs, so
    which article of a pair is the newer one, and which one founded a story, may differ from one
    uninterrupted run, and a pair may then be stored in both directions (a known gap: see the closing
    note of the session that merged stories with DuckLake). What must not differ is the set of pairs
    (unordered, with kind and Jaccard) and the grouping of articles into stories.
    """
    out: dict[str, Any] = {}
    for name, table in TABLES.items():
        if name in ("runs", "duplicates", "stories"):
            continue
        cols = ", ".join(f'"{c}"' for c in table.column_names if c != "run_id")
        out[name] = con.execute(f"SELECT {cols} FROM {name} ORDER BY ALL").fetchall()
    pairs = con.execute("SELECT article_id, other_article_id, kind, round(jaccard, 6) FROM duplicates").fetchall()
    out["duplicates"] = sorted({(tuple(sorted((a, b))), kind, j) for a, b, kind, j in pairs})
    groups: dict[str, set[str]] = {}
    for article_id, story_id in con.execute("SELECT article_id, story_id FROM stories").fetchall():
        groups.setdefault(story_id, set()).add(article_id)
    out["stories"] = sorted(sorted(g) for g in groups.values())
    return out


def _per_article(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    rows = con.execute("""SELECT a.article_id, (SELECT count(*) FROM mentions m WHERE m.article_id = a.article_id),
                                 (SELECT count(*) FROM quotes q WHERE q.article_id = a.article_id)
                          FROM articles a""").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_sigkill_at_random_moments_then_rerun_equals_an_uninterrupted_run(postgres: str, tmp_path: Path) -> None:
    parts = [small_batch(f"part{i}", 6, shared=2) for i in range(8)]
    with open(tmp_path / "batches.pkl", "wb") as handle:
        pickle.dump((parts, AT), handle)
    reference = "ducklake:postgres:" + new_database(postgres, "crash_reference")
    began = time.monotonic()
    done = _child(reference, tmp_path, "run-reference")
    out, err = done.communicate(timeout=600)
    duration = time.monotonic() - began
    assert done.returncode == 0, err[-2000:]
    con = backend.connect(reference, read_only=True, lake=str(tmp_path / "lake"))
    expected, whole = _contents(con), _per_article(con)
    con.close()

    catalog = "ducklake:postgres:" + new_database(postgres, "crash_target")
    backend.connect(catalog, lake=str(tmp_path / "lake")).close()  # the tables exist before the first kill
    moments = random.Random(19).sample(range(5, 95), KILLS)  # percent of an uninterrupted run's time
    committed = 0
    for i, percent in enumerate(sorted(moments)):
        child = _child(catalog, tmp_path, f"run-killed-{i}")
        time.sleep(duration * percent / 100)
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=60)
        committed += out.count("committed")
        con = backend.connect(catalog, read_only=True, lake=str(tmp_path / "lake"))
        try:
            seen = _per_article(con)
            assert all(seen[a] == whole[a] for a in seen), f"kill {i}: an article without all its rows"
            checks = query_checks(con)
            assert not any(checks.values()), (i, checks)
        finally:
            con.close()
    assert committed > 0  # some kills landed after commits, not all at start-up

    rerun = _child(catalog, tmp_path, "run-rerun")
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err[-2000:]
    con = backend.connect(catalog, read_only=True, lake=str(tmp_path / "lake"))
    try:
        assert _contents(con) == expected
        statuses = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
        assert statuses["run-rerun"] == "completed"
        assert all(status in ("running", "completed") for status in statuses.values())
    finally:
        con.close()
