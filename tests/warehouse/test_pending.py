"""A busy warehouse delays a run, never discards it; a warehouse sweeps only the lake folders it owns."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.warehouse.crash_child import small_batch, write_and_load
from transforms.models import Analysis, RunRecord
from tests.warehouse.test_concurrency import AT, _reference, _sound, held
from warehouse import arrow, lake
from warehouse.load import LoadPending
from warehouse.pending import owner_key


def _write_run(folder: Path, run_id: str, tag: str) -> dict[str, object]:
    fs, root = lake.lake_filesystem(str(folder / "lake"))
    b = small_batch(tag, 5, shared=2)
    lake.write_part(fs, root, run_id, 1, arrow.run_tables(run_id, AT, b.articles, b.raw_hashes,
                                                          Analysis(b.mentions, b.entities, b.quotes), b.rejects,
                                                          b.fetches))
    return RunRecord(run_id, AT, status="completed", counts="{}")


def test_a_held_warehouse_keeps_the_run_pending_and_it_loads_later(tmp_path: Path) -> None:
    from flows.cli import main
    from flows.loading import load_warehouse

    folder = tmp_path / "w"
    folder.mkdir()
    write_and_load(folder, "run-1", [small_batch("one", 4)], AT)
    expected = _reference(tmp_path, [("run-1", [small_batch("one", 4)]), ("run-2", [small_batch("two", 5, shared=2)])])
    run = _write_run(folder, "run-2", "two")
    warehouse, lake_url = folder / "w.duckdb", str(folder / "lake")
    with held(warehouse, "ro"):
        started = time.monotonic()
        with pytest.raises(LoadPending) as caught:
            load_warehouse.fn(str(warehouse), lake_url, {}, run, 1.0)
        waited = time.monotonic() - started
    message = str(caught.value)
    assert "waited 1 s" in message and "load-pending" in message and waited < 30  # no hidden retries
    fs, root = lake.lake_filesystem(lake_url)
    assert [r.run_id for r in lake.read_pending(fs, root)] == ["run-2"]
    assert main(["load-pending", "--warehouse", str(warehouse), "--lake", lake_url]) == 0
    assert _sound(warehouse) == expected
    assert lake.read_pending(fs, root) == []
    assert main(["load-pending", "--warehouse", str(warehouse), "--lake", lake_url]) == 0  # nothing left: no-op
    assert _sound(warehouse) == expected


def test_each_warehouse_sweeps_only_its_own_crashed_runs(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    fs, root = lake.lake_filesystem(str(shared / "lake"))
    mine, theirs = owner_key(tmp_path / "a.duckdb"), owner_key(tmp_path / "b.duckdb")
    for run_id, owner in (("a-crashed", mine), ("a-pending", mine), ("b-crashed", theirs), ("legacy", None)):
        _write_run(shared, run_id, run_id)
        if owner:
            lake.write_owner(fs, root, run_id, owner)
    lake.write_pending(fs, root, RunRecord("a-pending", AT, status="completed"))
    old = time.time() - 7 * 3600
    for dirpath, dirnames, filenames in os.walk(shared / "lake"):
        for name in dirnames + filenames:
            os.utime(Path(dirpath) / name, (old, old))
    removed = lake.remove_own_runs(fs, root, mine, keep=[])
    assert {entry.rsplit("run_id=", 1)[-1] for entry in removed} == {"a-crashed"}
    left = {folder.name for folder in (shared / "lake" / "articles").iterdir()}
    assert left == {"run_id=a-pending", "run_id=b-crashed", "run_id=legacy"}
