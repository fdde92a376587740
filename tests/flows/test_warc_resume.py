"""An interrupted WARC run resumes at its checkpoint: SIGKILL mid-file, run again, every record loaded once."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.corpus import vary_page
from bench.warc import Capture, write_warc
from tests.conftest import FIXTURES, REPO
from tests.conftest import query_warehouse as _query

COPIES = 12
BATCH = 4


def _pages() -> list[bytes]:
    html, web = FIXTURES / "html", FIXTURES / "web"
    return [gzip.decompress((html / "bbc_newsbeat_50470672.html.gz").read_bytes()),
            gzip.decompress((html / "nypost_bubonic_plague.html.gz").read_bytes()),
            (web / "thespacereview-3834.html").read_bytes(), (web / "jpost-608399.html").read_bytes()]


def _run(root: Path, warc: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PREFECT_HOME": str(root / "prefect"), "PREFECT_API_URL": ""}
    args = [sys.executable, "-m", "flows.cli", "run", "--no-seeds", "--warc", str(warc), "--batch-size", str(BATCH),
            "--workers", "1", "--warehouse", str(root / "w.duckdb"), "--lake", str(root / "lake")]
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _parts(root: Path) -> int:
    return len(list((root / "lake" / "articles").glob("run_id=*/part-*.parquet")))


@pytest.mark.slow
def test_sigkill_mid_file_then_resume_loads_every_record_once(tmp_path: Path) -> None:
    pages = _pages()
    captures = [Capture(f"https://news.example.org/story-{n}.html", vary_page(pages[n % len(pages)], n))
                for n in range(COPIES * len(pages))]
    warc = tmp_path / "many.warc.gz"
    write_warc(warc, captures)
    total = len(captures)

    first = _run(tmp_path, warc)
    deadline = time.monotonic() + 600
    try:
        while _parts(tmp_path) < 5 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert first.poll() is None, "the run ended before it could be interrupted"
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    warehouse = tmp_path / "w.duckdb"
    checkpoint = _query(warehouse, "SELECT \"offset\", records, done FROM warc_checkpoints")
    assert checkpoint and not checkpoint[0][2], checkpoint  # part of the file loaded, not all
    loaded_before = int(checkpoint[0][1])  # type: ignore[call-overload]
    assert 0 < loaded_before < total
    assert _query(warehouse, "SELECT count(*) FROM articles")[0][0] == loaded_before
    assert _query(warehouse, "SELECT status FROM runs") == [("running",)]

    second = _run(tmp_path, warc)
    assert second.wait(timeout=900) == 0

    once = _query(warehouse, "SELECT uri, count(*) FROM (SELECT uri FROM articles UNION ALL SELECT uri FROM rejects) "
                             "GROUP BY uri HAVING count(*) > 1")
    assert once == []
    assert _query(warehouse, "SELECT count(DISTINCT uri), count(*), count(DISTINCT article_id) FROM articles")[0] == (
        total, total, total)
    assert _query(warehouse, "SELECT records, done FROM warc_checkpoints") == [(total, True)]
    runs = _query(warehouse, "SELECT status, counts FROM runs ORDER BY started_at")
    assert [r[0] for r in runs] == ["running", "completed"]
    assert json.loads(str(runs[1][1]))["documents"] == total - loaded_before  # resumed, not restarted
    # every mention and quote belongs to a loaded article version; aliases were rebuilt
    assert _query(warehouse, "SELECT count(*) FROM mentions m ANTI JOIN articles a USING (article_id, content_hash)") == [(0,)]
    assert _query(warehouse, "SELECT count(*) FROM entity_aliases")[0][0] > 0  # type: ignore[operator]
