"""The ingest-news flow on a DuckLake warehouse: a real PostgreSQL catalog, Dask workers, S3 data.

- Two `newsdesk run` processes on disjoint seed folders write to one catalog at the same time;
  the tables then equal those of the same two runs one after the other, and a reader querying
  all along never fails and never sees an article without all of its mentions and quotes.
- A two-worker Dask `LocalCluster` runs the flow with the DuckLake data in moto's S3 server: every
  batch is committed by the worker that made it, and the rows equal a local file-backend run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import MODEL, SEEDS
from tests.flows.test_dask import monkeypatch_module, s3_endpoint  # noqa: F401 - fixtures
from tests.warehouse.postgres import new_database, running_postgres
from warehouse import backend
from warehouse.schema import TABLES

pytestmark = pytest.mark.slow

BUCKET = "newsdesk-ducklake"


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with running_postgres() as dsn:
        yield dsn


def contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table's rows without what differs between runs (the run id, the times)."""
    out = {}
    for name, table in TABLES.items():
        if name == "runs":
            continue
        cols = [c.name for c in table.columns if c.name != "run_id" and not c.name.endswith("_at")]
        out[name] = con.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM {name} "
                                "ORDER BY ALL").fetchall()
    return out


def per_article(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple[int, int]]:
    rows = con.execute("""SELECT a.article_id, a.content_hash,
            (SELECT count(*) FROM mentions m WHERE m.article_id = a.article_id AND m.content_hash = a.content_hash),
            (SELECT count(*) FROM quotes q WHERE q.article_id = a.article_id AND q.content_hash = a.content_hash)
        FROM articles a""").fetchall()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def _run(seeds: Path, catalog: str, root: Path, api: str, tag: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PREFECT_API_URL": api, "NEWSDESK_RAW": str(root / f"raw-{tag}")}
    return subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--seeds", str(seeds), "--warehouse", catalog,
                             "--lake", str(root / "lake"), "--workers", "1", "--batch-size", "1", "--model", MODEL],
                            env=env, cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen[str]) -> None:
    out, err = process.communicate(timeout=900)
    assert process.returncode in (0, 1), f"{out[-1500:]}\n{err[-3000:]}"


class Reader(threading.Thread):
    """`newsdesk sql`'s connection, queried in a loop: what it saw, how long each query took, what failed."""

    def __init__(self, catalog: str, lake: str) -> None:
        super().__init__(daemon=True)
        self.catalog, self.lake = catalog, lake
        self.stop = threading.Event()
        self.seen: list[dict[tuple[str, str], tuple[int, int]]] = []
        self.waits: list[float] = []
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                con = backend.connect(self.catalog, read_only=True, lake=self.lake)
                break
            except Exception:  # noqa: BLE001 - the catalog is created by the first writer
                time.sleep(0.2)
        while not self.stop.is_set():
            began = time.monotonic()
            try:
                self.seen.append(per_article(con))
                con.execute("SELECT count(*) FROM most_quoted_speakers").fetchall()
            except Exception as err:  # noqa: BLE001 - reported by the test
                self.errors.append(str(err).splitlines()[0])
            self.waits.append(time.monotonic() - began)
            time.sleep(0.1)
        con.close()


def test_two_runs_at_once_equal_two_runs_in_turn(prefect_harness: None, postgres: str, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    api = str(PREFECT_API_URL.value())
    files = sorted(p for p in SEEDS.iterdir() if p.is_file())
    halves = [tmp_path / "seeds-a", tmp_path / "seeds-b"]
    for i, folder in enumerate(halves):
        folder.mkdir()
        for f in files[i::2]:
            shutil.copy(f, folder / f.name)

    serial = "ducklake:postgres:" + new_database(postgres, "serial")
    for i, folder in enumerate(halves):
        _finish(_run(folder, serial, tmp_path / "serial", api, f"s{i}"))

    parallel = "ducklake:postgres:" + new_database(postgres, "parallel")
    backend.connect(parallel, lake=str(tmp_path / "parallel" / "lake")).close()  # tables first: the reader starts now
    reader = Reader(parallel, str(tmp_path / "parallel" / "lake"))
    reader.start()
    running = [_run(folder, parallel, tmp_path / "parallel", api, f"p{i}") for i, folder in enumerate(halves)]
    for process in running:
        _finish(process)
    reader.stop.set()
    reader.join(timeout=60)

    a = backend.connect(serial, read_only=True, lake=str(tmp_path / "serial" / "lake"))
    b = backend.connect(parallel, read_only=True, lake=str(tmp_path / "parallel" / "lake"))
    try:
        assert contents(b) == contents(a)
        assert b.execute("SELECT count(*), count(DISTINCT status) FROM runs").fetchone() == (2, 1)
        final = per_article(b)
    finally:
        a.close()
        b.close()
    assert len(final) >= 5
    assert not reader.errors, reader.errors[:3]
    assert len(reader.seen) >= 3 and any(0 < len(seen) < len(final) for seen in reader.seen), \
        "the reader never saw the runs in progress"
    for seen in reader.seen:  # every article it saw had all its rows: no half batch
        assert all(final[key] == counts for key, counts in seen.items())
    print(f"reader: {len(reader.waits)} queries while two runs wrote, longest {max(reader.waits):.2f} s")


def test_dask_workers_commit_batches_with_data_on_s3(prefect_harness: None, postgres: str, s3_endpoint: str,  # noqa: F811
                                                      tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("prefect_dask")
    s3fs = pytest.importorskip("s3fs")
    from flows.cli import main
    from flows.ingest import ingest_news

    storage = {"client_kwargs": {"endpoint_url": s3_endpoint}, "key": "test", "secret": "test"}
    s3fs.S3FileSystem(**storage).mkdir(BUCKET)
    ingest_news(seeds=str(SEEDS), warehouse=str(tmp_path / "local.duckdb"), lake_url=str(tmp_path / "lake"),
                raw=str(tmp_path / "raw"), spacy_model=MODEL, batch_size=2, workers=1)
    catalog = "ducklake:postgres:" + new_database(postgres, "dask")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("NEWSDESK_S3_ENDPOINT_URL", s3_endpoint)
            env.setenv("NEWSDESK_RAW", str(tmp_path / "raw-dask"))
            code = main(["run", "--seeds", str(SEEDS), "--warehouse", catalog, "--lake", f"s3://{BUCKET}/lake",
                         "--dask-address", cluster.scheduler_address, "--batch-size", "2", "--model", MODEL])
        assert code == 0
        with distributed.Client(cluster.scheduler_address) as client:
            attached = client.run(lambda: __import__("warehouse.backend", fromlist=["_WRITERS"])._WRITERS.keys()
                                  .__len__())
    assert all(n == 1 for n in attached.values()), attached  # each worker committed through its own connection
    lakehouse = backend.connect(catalog, read_only=True, lake=f"s3://{BUCKET}/lake", storage_options=storage)
    local = duckdb.connect(str(tmp_path / "local.duckdb"), read_only=True)
    try:
        assert contents(lakehouse) == contents(local)
        commits = lakehouse.execute("SELECT count(*) FROM newsdesk.snapshots() WHERE changes::VARCHAR "
                                    "LIKE '%insert%'").fetchone()[0]
        assert commits >= 3 + 2  # five seeds, two per batch: a commit per batch, and the run's row twice
    finally:
        lakehouse.close()
        local.close()
    files = s3fs.S3FileSystem(**storage).find(f"{BUCKET}/lake/ducklake")
    assert any(f.endswith(".parquet") for f in files), files
