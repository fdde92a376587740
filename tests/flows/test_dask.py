"""Scale-out: the ingest-news flow on a Dask cluster, writing its lake to S3-compatible object storage.

A `distributed.LocalCluster` (2 worker processes, 1 thread each) runs the flow's
tasks through prefect-dask; moto's S3 server on 127.0.0.1 holds the lake. The
warehouse must end up with exactly the rows a plain local run loads from the
same seeds, and the run's Parquet parts must be in the bucket.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MODEL, SEEDS, count_rows
from tests.conftest import query_warehouse as _rows

pytestmark = pytest.mark.slow

BUCKET = "newsdesk-lake"
TABLES = ("articles", "mentions", "entities", "entity_aliases", "quotes", "rejects", "fetches")
BATCH_SIZE = 2  # several batches, so both Dask workers get work


@pytest.fixture(scope="module")
def s3_endpoint(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[str]:
    pytest.importorskip("moto.server")
    from moto.server import ThreadedMotoServer

    # Credentials for every process (Dask workers inherit the environment); never real ones.
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch_module.setenv(name, value)
    monkeypatch_module.delenv("AWS_PROFILE", raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _storage_options(endpoint: str) -> dict[str, Any]:
    return {"client_kwargs": {"endpoint_url": endpoint}, "key": "test", "secret": "test"}


def _counts(warehouse: Path) -> dict[str, int]:
    return count_rows(warehouse, TABLES)


@pytest.fixture(scope="module")
def runs(prefect_harness: None, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("prefect_dask")
    s3fs = pytest.importorskip("s3fs")
    from flows.cli import main
    from flows.ingest import ingest_news

    root = tmp_path_factory.mktemp("dask")
    storage = _storage_options(s3_endpoint)
    s3fs.S3FileSystem(**storage).mkdir(BUCKET)
    common: dict[str, Any] = {"seeds": str(SEEDS), "spacy_model": MODEL, "batch_size": BATCH_SIZE, "workers": 1}

    local = ingest_news(warehouse=str(root / "local.duckdb"), lake_url=str(root / "lake"), raw=str(root / "raw"),
                        **common)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        # Through the command line, as a user would: --dask-address, an s3:// lake, the endpoint from settings.
        with pytest.MonkeyPatch.context() as env:
            env.setenv("NEWSDESK_S3_ENDPOINT_URL", s3_endpoint)
            env.setenv("NEWSDESK_RAW", str(root / "raw-dask"))
            code = main(["run", "--seeds", str(SEEDS), "--warehouse", str(root / "dask.duckdb"),
                         "--lake", f"s3://{BUCKET}/lake", "--dask-address", cluster.scheduler_address,
                         "--batch-size", str(BATCH_SIZE), "--model", MODEL])
        assert code == 0
        (run_id,) = _rows(root / "dask.duckdb", "SELECT run_id FROM runs")[0]
        remote = {"run_id": run_id}
        with distributed.Client(cluster.scheduler_address) as client:
            executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    listing = s3fs.S3FileSystem(**storage).find(f"{BUCKET}/lake")
    return {"local": local, "remote": remote, "root": root, "listing": listing, "executed": executed}


def test_dask_run_loads_the_same_rows_as_a_local_run(runs: dict[str, Any]) -> None:
    local, remote = _counts(runs["root"] / "local.duckdb"), _counts(runs["root"] / "dask.duckdb")
    assert local["articles"] >= 5 and local["mentions"] > 0 and local["quotes"] > 0, local
    assert remote == local


def test_dask_run_loads_the_same_articles(runs: dict[str, Any]) -> None:
    sql = "SELECT uri, content_hash FROM articles ORDER BY uri"
    assert _rows(runs["root"] / "dask.duckdb", sql) == _rows(runs["root"] / "local.duckdb", sql)
    sql = "SELECT article_id, start, entity_id FROM mentions ORDER BY ALL"
    assert _rows(runs["root"] / "dask.duckdb", sql) == _rows(runs["root"] / "local.duckdb", sql)


def test_lake_parts_are_in_the_bucket(runs: dict[str, Any]) -> None:
    run_id = runs["remote"]["run_id"]
    parts = [p for p in runs["listing"] if f"/run_id={run_id}/part-" in p and p.endswith(".parquet")]
    tables = {p.split("/lake/", 1)[1].split("/", 1)[0] for p in parts}
    assert {"articles", "mentions", "quotes"} <= tables, runs["listing"]
    articles = [p for p in parts if "/lake/articles/" in p]
    assert len(articles) >= 2, articles  # one part per batch: the batches really were split
    assert not [p for p in runs["listing"] if p.endswith(".tmp")]


def test_batch_tasks_ran_on_the_dask_workers(runs: dict[str, Any]) -> None:
    batches = -(-5 // BATCH_SIZE)  # the five seeds
    # read, extract, analyse and write per batch: all of them on the cluster, none in the test process
    assert sum(runs["executed"].values()) >= 4 * batches, runs["executed"]
