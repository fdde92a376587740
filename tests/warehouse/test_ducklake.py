"""The DuckLake backend against a real PostgreSQL catalog: same rows, same queries as the DuckDB file.

Batches are committed one transaction each (`load_batch`, as every flow batch does on DuckLake), and
the tables must equal those of the file backend's one-transaction `load_run` of the same run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.warehouse.crash_child import Batch, small_batch, write_and_load
from transforms.models import Analysis, RunRecord
from tests.warehouse.postgres import new_database, running_postgres
from warehouse import arrow, backend, ducklake
from warehouse.catalog import CatalogUnreachable
from warehouse.load import query_checks, query_counts
from warehouse.migrate import migrate_warehouse, query_key_digest
from warehouse.schema import TABLES
from warehouse.views import VIEWS

AT = datetime(2025, 3, 1, 6, tzinfo=timezone.utc)
slow = pytest.mark.slow  # a PostgreSQL server and catalog round trips: tens of seconds per test here
QUERIES = Path(__file__).resolve().parents[2] / "warehouse" / "queries"


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with running_postgres() as dsn:
        yield dsn


@pytest.fixture
def catalog(postgres: str, request: pytest.FixtureRequest) -> str:
    """A fresh DuckLake catalog (its own PostgreSQL database) for one test."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    return "ducklake:postgres:" + new_database(postgres, name)


def batches(tag: str, parts: int = 3, shared: int = 2) -> list[Batch]:
    """Parts of a run: short articles, one entity shared by all, some keys repeated across parts."""
    return [small_batch(f"{tag}{i}", 4, shared=shared) for i in range(parts)]


def load_lakehouse(con: duckdb.DuckDBPyConnection, run_id: str, parts: list[Batch], at: datetime = AT) -> dict[str, int]:
    """What the flow does on DuckLake: the run row first, a commit per batch, the run row completed."""
    ducklake.begin_run(con, RunRecord(run_id, at))
    for b in parts:
        ducklake.load_batch(con, RunRecord(run_id, at), arrow.run_tables(
            run_id, at, b.articles, b.raw_hashes, Analysis(b.mentions, b.entities, b.quotes), b.rejects, b.fetches))
    added, checks = ducklake.finish_run(con, RunRecord(run_id, at, status="completed",
                                                       counts='{"parts": %d}' % len(parts)))
    assert not any(checks.values()), checks
    return added


def contents(con: duckdb.DuckDBPyConnection, skip_runs: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for name, table in TABLES.items():
        cols = ["run_id", "started_at"] if name == "runs" else table.column_names
        out[name] = con.execute(f"SELECT {', '.join(repr(c).replace(chr(39), chr(34)) for c in cols)} "
                                f"FROM {name} ORDER BY ALL").fetchall()
    return out


@slow
def test_batches_on_ducklake_equal_the_file_load(catalog: str, tmp_path: Path) -> None:
    first, second = batches("a"), batches("b")
    write_and_load(tmp_path / "file", "run-1", first, AT)
    write_and_load(tmp_path / "file", "run-2", second, AT + timedelta(hours=1))
    con = backend.connect(catalog, lake=str(tmp_path / "lake"))
    try:
        load_lakehouse(con, "run-1", first)
        added = load_lakehouse(con, "run-2", second, AT + timedelta(hours=1))
        assert added["articles"] == 6 and added["entities"] == 0  # run-1 had the shared entity and articles
        reference = duckdb.connect(str(tmp_path / "file" / "w.duckdb"), read_only=True)
        assert contents(con) == contents(reference)
        assert query_counts(con) == query_counts(reference)
        # Every view and named query gives the same answer on both backends.
        for name in VIEWS:
            assert con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() == \
                reference.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall(), name
        for path in sorted(QUERIES.glob("*.sql")):
            sql = path.read_text()
            mine, theirs = con.execute(sql).fetchall(), reference.execute(sql).fetchall()
            if path.stem == "runs":  # when each run finished differs
                mine, theirs = [r[:2] for r in mine], [r[:2] for r in theirs]
            assert mine == theirs, path.name
        reference.close()
        # A batch loaded again (a task retried after its commit) adds nothing.
        b = second[0]
        again = ducklake.load_batch(con, RunRecord("run-2", AT), arrow.run_tables(
            "run-2", AT, b.articles, b.raw_hashes, Analysis(b.mentions, b.entities, b.quotes), b.rejects, b.fetches))
        assert sum(again.values()) == 0
        assert ducklake.finish_run(con, RunRecord("run-2", AT))[0]["articles"] == 0
    finally:
        con.close()


@slow
def test_concurrent_batches_never_duplicate_a_key(catalog: str, tmp_path: Path) -> None:
    """Writers that overlap (the same entity, the same shared articles) commit one row per key."""
    con = backend.connect(catalog, lake=str(tmp_path / "lake"))
    ducklake.begin_run(con, RunRecord("run-1", AT))
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        cursor = con.cursor()
        cursor.execute("USE newsdesk")
        try:
            for b in batches(tag, parts=3, shared=3):
                ducklake.load_batch(cursor, RunRecord("run-1", AT), arrow.run_tables(
                    "run-1", AT, b.articles, b.raw_hashes, Analysis(b.mentions, b.entities, b.quotes), b.rejects,
                    b.fetches))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)
        finally:
            cursor.close()

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in ("x", "y", "z")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for name, table in TABLES.items():
        keys = ", ".join(f'"{k}"' for k in table.key)
        dupes = con.execute(f"SELECT count(*) - count(DISTINCT ({keys})) FROM {name}").fetchone()
        assert dupes == (0,), name
    assert con.execute("SELECT count(*) FROM entities").fetchone() == (1,)
    # 3 writers x 3 parts x 1 own article, and the 3 shared by all: 9 + 3
    assert con.execute("SELECT count(*) FROM articles").fetchone() == (12,)
    assert con.execute("SELECT count FROM entity_aliases").fetchall() == [(12,)]
    added, checks = ducklake.finish_run(con, RunRecord("run-1", AT))
    assert not any(checks.values()), checks
    con.close()


@slow
def test_readers_see_snapshots_and_travel_in_time(catalog: str, tmp_path: Path) -> None:
    data = str(tmp_path / "lake")
    con = backend.connect(catalog, lake=data)
    load_lakehouse(con, "run-1", batches("a", parts=1))
    before = con.execute("SELECT max(snapshot_id) FROM newsdesk.snapshots()").fetchone()[0]
    reader = backend.connect(catalog, read_only=True, lake=data)
    reader.execute("BEGIN TRANSACTION")
    seen = reader.execute("SELECT count(*) FROM articles").fetchone()
    load_lakehouse(con, "run-2", batches("b", parts=2), AT + timedelta(hours=1))
    # A reader inside its transaction keeps its snapshot; a new one sees the new commits.
    assert reader.execute("SELECT count(*) FROM articles").fetchone() == seen == (4,)
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM articles").fetchone() == (8,)
    reader.close()
    when = con.execute("SELECT snapshot_time FROM newsdesk.snapshots() WHERE snapshot_id = ?", [before]).fetchone()[0]
    for at in (str(before), when.isoformat()):  # a snapshot id, a timestamp
        then = backend.connect(catalog, lake=data, at=at)
        assert then.execute("SELECT count(*) FROM articles").fetchone() == (4,)
        assert then.execute("SELECT count(*) FROM current_articles").fetchone() == (4,)  # views travel too
        then.close()
    with pytest.raises(Exception, match="snapshot"):
        backend.connect(catalog, lake=data, at="999999")
    elsewhere = tmp_path / "reader-lake"  # a reader's lake setting names no folder to create (`newsdesk sql`)
    backend.connect(catalog, read_only=True, lake=str(elsewhere)).close()
    assert not elsewhere.exists()
    con.close()


def test_time_travel_needs_ducklake(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="needs a DuckLake warehouse"):
        backend.connect(tmp_path / "w.duckdb", at="1")


@slow
def test_migrate_file_to_ducklake_and_back(catalog: str, tmp_path: Path) -> None:
    write_and_load(tmp_path / "file", "run-1", batches("a"), AT)
    write_and_load(tmp_path / "file", "run-2", batches("b"), AT + timedelta(hours=1))
    source = tmp_path / "file" / "w.duckdb"
    data = str(tmp_path / "lake")
    report = migrate_warehouse(source, catalog, data)
    assert report["articles"][0] == report["articles"][1] == report["articles"][2] > 0
    again = migrate_warehouse(source, catalog, data)
    assert all(added == 0 for _, _, added in again.values())  # merged on keys: a re-run adds nothing
    back = tmp_path / "back.duckdb"
    migrate_warehouse(catalog, back, data)
    a, b = duckdb.connect(str(source), read_only=True), duckdb.connect(str(back), read_only=True)
    for name in TABLES:
        assert query_key_digest(a, name) == query_key_digest(b, name), name
        assert a.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() == \
            b.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall(), name
    assert not any(query_checks(b).values())
    a.close()
    b.close()


@slow
def test_cli_migrate_and_time_travel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`newsdesk migrate` into a DuckLake catalog (SQLite: no server), then `newsdesk sql --at` on it."""
    from flows.cli import main

    write_and_load(tmp_path / "file", "run-1", batches("a", parts=2), AT)
    catalog = f"ducklake:sqlite:{tmp_path / 'catalog.sqlite'}"
    lake_url = str(tmp_path / "lake")
    assert main(["migrate", "--warehouse", str(tmp_path / "file" / "w.duckdb"), "--lake", lake_url,
                 "--to", catalog]) == 0
    assert "articles" in capsys.readouterr().out
    assert main(["sql", "--warehouse", catalog, "--format", "csv", "SELECT count(*) AS n FROM current_articles"]) == 0
    assert capsys.readouterr().out.split() == ["n", "6"]
    assert main(["sql", "--warehouse", catalog, "--at", "0", "--format", "csv", "SELECT count(*) AS n FROM runs"]) == 2  # no such snapshot: a usage error
    assert "held no newsdesk tables at 0" in capsys.readouterr().err  # snapshot 0: the empty catalog
    assert main(["sql", "--warehouse", str(tmp_path / "file" / "w.duckdb"), "--at", "1", "SELECT 1"]) == 2
    assert "needs a DuckLake warehouse" in capsys.readouterr().err


@slow
def test_sqlite_catalog_for_one_machine(tmp_path: Path) -> None:
    catalog = f"ducklake:sqlite:{tmp_path / 'catalog.sqlite'}"
    con = backend.connect(catalog, lake=str(tmp_path / "lake"))
    load_lakehouse(con, "run-1", batches("a", parts=2))
    reader = backend.connect(catalog, read_only=True, lake=str(tmp_path / "lake"))  # while the writer is open
    assert reader.execute("SELECT count(*) FROM current_articles").fetchone() == (6,)  # 2 x 4, 2 shared
    reader.close()
    con.close()


def test_an_unreachable_catalog_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(CatalogUnreachable, match="is its database running"):
        backend.connect("ducklake:postgres:dbname=nope host=127.0.0.1 port=1 user=nobody connect_timeout=2",
                        lake=str(tmp_path / "lake"))
