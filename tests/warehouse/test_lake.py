"""The Parquet lake: explicit schemas, whole parts only, crashed runs swept but never a live one."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from transforms.models import Analysis, Article, Block, Entity, Fetch, Mention, Quote, Reject, to_article_id, to_content_hash
from warehouse import arrow, lake
from warehouse.schema import LOAD_ORDER, TABLES

AT = datetime(2025, 3, 1, 6, tzinfo=timezone.utc)
TEXT = "Mayor Ana Ruiz said the bridge “will reopen in May”.\n\nThe council agreed."


def _records(text: str = TEXT) -> dict[str, pa.Table]:
    article_id = to_article_id("seed:city/bridge.txt")
    article = Article(article_id, to_content_hash(text), "city/bridge.txt", "seed", text, title="Bridge",
                      authors=("A. Writer",), blocks=(Block("paragraph", 0, 53), Block("paragraph", 55, len(text))),
                      provenance=(("title", "text"),))
    mention = Mention(article_id, 6, 14, "Ana Ruiz", "PERSON", "Ana Ruiz", "e-ruiz")
    quote = Quote(article_id, 30, 50, text[30:50], "direct", cue="said", cue_start=15, cue_end=19,
                  speaker="Ana Ruiz", speaker_start=6, speaker_end=14, speaker_entity_id="e-ruiz")
    fetch = Fetch("f1", "https://news.example.org/a", None, 200, 100, 5.0, "ab" * 32, "text/html", "utf-8", None, None,
                  None, None, 1, AT)
    return arrow.run_tables("run-1", AT, [article], {"city/bridge.txt": "c" * 64},
                           Analysis([mention], [Entity("e-ruiz", "Ana Ruiz", "PERSON")], [quote]),
                           [Reject("x.bin", "read", "binary", "x.bin is not text")], [fetch])


def _lake(tmp_path: Path) -> tuple[Any, str]:
    return lake.lake_filesystem(str(tmp_path / "lake"))


def _files(tmp_path: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path / "lake")) for p in (tmp_path / "lake").rglob("*") if p.is_file())


def test_run_tables_carry_each_tables_explicit_schema() -> None:
    tables = _records()
    assert set(tables) == set(LOAD_ORDER)
    for name, table in tables.items():
        assert table.schema.equals(TABLES[name].arrow_schema), name
        assert table.num_rows == 1, name


def test_parts_read_back_as_written_and_leave_no_temporary_files(tmp_path: Path) -> None:
    fs, root = _lake(tmp_path)
    tables = _records()
    lake.write_part(fs, root, "run-1", 1, tables)
    lake.write_part(fs, root, "run-1", 2, tables)
    back = lake.read_run(fs, root, "run-1")
    for name in LOAD_ORDER:
        assert back[name].equals(pa.concat_tables([tables[name], tables[name]])), name
    assert all(f.split("/")[-1].startswith("part-") for f in _files(tmp_path))
    assert "articles/run_id=run-1/part-00002.parquet" in _files(tmp_path)


def test_a_failed_write_leaves_the_previous_part_and_no_temporary_file(tmp_path: Path) -> None:
    fs, root = _lake(tmp_path)
    first = _records()
    lake.write_part(fs, root, "run-1", 1, first)
    before = _files(tmp_path)
    with pytest.raises((TypeError, AttributeError)):
        lake.write_table(fs, root, "articles", "run-1", 1, "not a table")
    assert _files(tmp_path) == before
    assert lake.read_run(fs, root, "run-1")["articles"].equals(first["articles"])


def test_readers_ignore_temporary_and_foreign_files(tmp_path: Path) -> None:
    fs, root = _lake(tmp_path)
    lake.write_part(fs, root, "run-1", 1, _records())
    folder = tmp_path / "lake" / "articles" / "run_id=run-1"
    (folder / ".part-00002.0123abcd.tmp").write_bytes(b"PAR1 half a file")
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / "part-00003.parquet.crc").write_bytes(b"\0\0")
    assert lake.read_run(fs, root, "run-1")["articles"].num_rows == 1


def test_remove_runs_keeps_loaded_and_young_runs_and_sweeps_old_crashed_ones(tmp_path: Path) -> None:
    fs, root = _lake(tmp_path)
    for run_id in ("loaded", "crashed", "writing"):
        lake.write_part(fs, root, run_id, 1, _records())
    (tmp_path / "lake" / "articles" / "run_id=crashed" / ".part-00002.beef.tmp").write_bytes(b"PAR1")
    (tmp_path / "lake" / "quotes" / "run_id=empty").mkdir()  # died between makedirs and the first write
    old = time.time() - lake.STALE_AFTER_S - 60
    for path in list((tmp_path / "lake").glob("*/run_id=crashed")) + list((tmp_path / "lake").glob("*/run_id=empty")):
        for item in [*path.rglob("*"), path]:
            os.utime(item, (old, old))
    removed = lake.remove_runs(fs, root, ["loaded"])
    assert {r.rsplit("=", 1)[-1] for r in removed} == {"crashed", "empty"}
    assert {p.name for p in (tmp_path / "lake").glob("*/run_id=*")} == {"run_id=loaded", "run_id=writing"}
    # A run still writing goes only when asked with no grace period (the crash test does).
    assert lake.remove_runs(fs, root, ["loaded"], min_age_s=0)
    assert {p.name for p in (tmp_path / "lake").glob("*/run_id=*")} == {"run_id=loaded"}
    assert lake.read_run(fs, root, "loaded")["mentions"].num_rows == 1


def test_a_quote_key_names_the_article_version() -> None:
    one, two = _records(), _records(TEXT + " It did.")
    assert one["quotes"]["quote_id"][0].as_py() != two["quotes"]["quote_id"][0].as_py()
    assert one["quotes"]["quote_id"][0].as_py().startswith(one["quotes"]["article_id"][0].as_py() + ":30-50@")


@pytest.fixture(scope="module")
def s3_lake() -> Iterator[tuple[Any, str]]:
    moto_server = pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # never real credentials or regions
        patch.delenv("AWS_PROFILE", raising=False)
        try:
            fs = s3fs.S3FileSystem(key="test", secret="test", client_kwargs={"endpoint_url": f"http://{host}:{port}"})
            fs.mkdir("lake-bucket")
            yield fs, "lake-bucket/lake"
        finally:
            server.stop()


def test_object_storage_lake_writes_reads_and_keeps_young_runs(s3_lake: tuple[Any, str]) -> None:
    fs, root = s3_lake
    tables = _records()
    lake.write_part(fs, root, "loaded", 1, tables)
    lake.write_part(fs, root, "crashed", 1, tables)
    assert lake.read_run(fs, root, "crashed")["quotes"].equals(tables["quotes"])
    assert not [p for p in fs.find(root) if p.rsplit("/", 1)[-1].startswith(lake.TEMPORARY_PREFIX)]
    assert lake.remove_runs(fs, root, ["loaded"]) == []  # written a moment ago: maybe a live run
    assert lake.remove_runs(fs, root, ["loaded"], min_age_s=0)
    assert not [p for p in fs.find(root) if "run_id=crashed" in p]
    assert pq.read_table(fs.open(lake.part_path(root, "articles", "loaded", 1), "rb")).num_rows == 1
