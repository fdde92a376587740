"""Runs a busy warehouse could not take: their parts stay in the lake, recorded as pending, and load first next time.

A load that cannot get the DuckDB file within `lock_timeout_s` (another process
holds it) does not throw the run's work away: `lake.write_pending` records the
run, and the next `newsdesk run` (or `newsdesk load-pending`) loads it before
anything else, so its inputs count as loaded and are not processed again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warehouse import lake
from warehouse.load import connect, load_run


def owner_key(warehouse: Path | str) -> str:
    """Who a run's lake folders belong to: the warehouse file, as an absolute path."""
    return str(Path(warehouse).resolve())


def load_pending_runs(warehouse: Path, lake_url: str, storage_options: dict[str, Any], lock_timeout_s: float) -> list[str]:
    """Load this warehouse's pending runs, oldest first (each in its own transaction); return their ids."""
    fs, root = lake.lake_filesystem(lake_url, storage_options)
    runs = lake.read_pending(fs, root, owner_key(warehouse))
    if not runs:
        return []
    con = connect(warehouse, lock_timeout_s)
    try:
        for run in runs:
            load_run(con, run, lake.stream_run(fs, root, run.run_id))
            lake.clear_pending(fs, root, run.run_id)
        return [run.run_id for run in runs]
    finally:
        con.close()
