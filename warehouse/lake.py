"""The Parquet lake: one file set per run and table, written atomically.

Layout: `<lake>/<table>/run_id=<run_id>/part-00001.parquet`, one part per batch. The lake may be a
local folder or an fsspec URL (`s3://bucket/prefix`); files are written under a
temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
from datetime import datetime
import logging
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.models import RunRecord
from warehouse.schema import LOAD_ORDER, TABLES

log = logging.getLogger(__name__)

COMPRESSION = "zstd"
TEMPORARY_PREFIX = "."  # parts being written: `.part-00001.<uuid>.tmp`, never read
# A run missing from the warehouse is a crashed run only once its files stopped changing this long
# (a second flow run may be writing its parts right now); see `remove_runs`.
STALE_AFTER_S = 6 * 3600.0
# A run is loaded a table at a time in pieces of about this size, never all at once.
CHUNK_BYTES = 64 << 20


def lake_filesystem(lake: str, storage_options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """An fsspec filesystem and the root path inside it."""
    fs, root = fsspec.core.url_to_fs(lake, **(storage_options or {}))
    return fs, root.rstrip("/")


def run_folder(root: str, table: str, run_id: str) -> str:
    return f"{root}/{table}/run_id={run_id}"


def part_path(root: str, table: str, run_id: str, part: int) -> str:
    return f"{run_folder(root, table, run_id)}/part-{part:05d}.parquet"


def write_table(fs: Any, root: str, table: str, run_id: str, part: int, data: pa.Table) -> str:
    """Write one table's rows for a batch of a run: temporary name, then rename.

    A crash leaves at most a temporary file, which `read_table` never reads and
    `remove_runs` deletes. Local files are flushed to disk before the rename, so
    a part that has its final name is complete even after a power cut.
    """
    final = part_path(root, table, run_id, part)
    folder = run_folder(root, table, run_id)
    fs.makedirs(folder, exist_ok=True)
    temporary = f"{folder}/{TEMPORARY_PREFIX}part-{part:05d}.{uuid.uuid4().hex}.tmp"
    try:
        if _is_local(fs):
            with open(temporary, "wb") as handle:
                pq.write_table(data, handle, compression=COMPRESSION)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
            _fsync_folder(folder)
        else:
            with fs.open(temporary, "wb") as handle:
                pq.write_table(data, handle, compression=COMPRESSION)
            fs.mv(temporary, final)
    except BaseException:
        _remove_quietly(fs, temporary)
        raise
    return final


def _fsync_folder(folder: str) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_quietly(fs: Any, path: str) -> None:
    try:
        if fs.exists(path):
            fs.rm(path)
    except Exception:  # noqa: BLE001 - the original error matters more; remove_runs sweeps later
        log.warning("could not remove temporary lake file %s", path)


def _is_local(fs: Any) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocol or "local" in protocol


def _part_paths(fs: Any, root: str, table: str, run_id: str) -> list[str]:
    """A run's finished parts of one table, in order (temporary files of an interrupted write are ignored)."""
    folder = run_folder(root, table, run_id)
    if not fs.exists(folder):
        return []
    return sorted(p for p in fs.ls(folder, detail=False)
                  if p.rsplit("/", 1)[-1].startswith("part-") and p.endswith(".parquet"))


def iter_table(fs: Any, root: str, table: str, run_id: str, max_bytes: int = CHUNK_BYTES,
               skip: frozenset[int] = frozenset()) -> Iterator[pa.Table]:
    """One table of a run, in pieces of about `max_bytes` (whole parts, in order): memory stays flat
    however large the run. Parts numbered in `skip` (already loaded, see warehouse/checkpoints.py) are left out."""
    schema = TABLES[table].arrow_schema
    pending: list[pa.Table] = []
    size = 0
    for path in _part_paths(fs, root, table, run_id):
        if skip and int(path.rsplit("part-", 1)[1].split(".")[0]) in skip:
            continue
        with fs.open(path, "rb") as handle:
            pending.append(pq.read_table(handle, schema=schema))
        size += pending[-1].nbytes
        if size >= max_bytes:
            yield pa.concat_tables(pending)
            pending, size = [], 0
    if pending:
        yield pa.concat_tables(pending)


def read_table(fs: Any, root: str, table: str, run_id: str) -> pa.Table:
    """All parts of one table for a run, in memory at once."""
    pieces = list(iter_table(fs, root, table, run_id, max_bytes=1 << 62))
    return pieces[0] if pieces else TABLES[table].arrow_schema.empty_table()


def remove_runs(fs: Any, root: str, keep: Iterable[str], min_age_s: float = STALE_AFTER_S) -> list[str]:
    """Delete lake folders of runs that never reached the warehouse (crashed runs); return them.

    `keep` is the run ids the warehouse holds. A run that is not there yet may
    still be writing (another flow run working on the same lake), so its folders
    go only once nothing in them changed for `min_age_s` seconds. (Temporary files
    are left only by a process that died while writing, whose run is never loaded.)
    """
    keep = set(keep)
    now = time.time()
    folders: dict[str, list[str]] = {}
    for table in TABLES:
        base = f"{root}/{table}"
        if not fs.exists(base):
            continue
        for entry in fs.ls(base, detail=False):
            name = entry.rstrip("/").rsplit("/", 1)[-1]
            if name.startswith("run_id="):
                folders.setdefault(name[len("run_id=") :], []).append(entry.rstrip("/"))
    removed = []
    for run_id, entries in sorted(folders.items()):
        if run_id in keep:
            continue
        if min_age_s > 0 and not _unchanged_for(fs, entries, min_age_s, now):
            continue  # maybe still being written
        for entry in entries:
            fs.rm(entry, recursive=True)
            removed.append(entry)
    return removed


def _unchanged_for(fs: Any, folders: list[str], seconds: float, now: float) -> bool:
    """Whether no file in these folders (nor the folders themselves, where they exist) changed lately."""
    files = [_changed_at(f) for folder in folders for f in fs.ls(folder, detail=True)]
    if any(at is None for at in files):
        return False  # a file system that does not say when: never guess
    known = [at for at in files if at is not None]
    known += [at for at in (_changed_at(fs.info(folder)) for folder in folders) if at is not None]
    return bool(known) and all(now - at >= seconds for at in known)


def _changed_at(info: dict[str, Any]) -> float | None:
    """When a file last changed (seconds since the epoch), from an fsspec listing entry."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
    return None


def write_part(fs: Any, root: str, run_id: str, part: int, tables: dict[str, pa.Table]) -> dict[str, str]:
    return {name: write_table(fs, root, name, run_id, part, data) for name, data in tables.items() if data.num_rows}


def read_run(fs: Any, root: str, run_id: str) -> dict[str, pa.Table]:
    """Every table a run loads, from its parts (empty where the run wrote none)."""
    return {name: read_table(fs, root, name, run_id) for name in LOAD_ORDER}


def stream_run(fs: Any, root: str, run_id: str, max_bytes: int = CHUNK_BYTES,
               skip: frozenset[int] = frozenset()) -> dict[str, Iterator[pa.Table]]:
    """Every table a run loads, each read lazily in pieces (`load_run` takes either form), without the parts in `skip`."""
    return {name: iter_table(fs, root, name, run_id, max_bytes, skip) for name in LOAD_ORDER}


def read_part(fs: Any, root: str, run_id: str, part: int) -> dict[str, pa.Table]:
    """The tables one batch of a run wrote (empty where it wrote none)."""
    tables = {}
    for name in LOAD_ORDER:
        path = part_path(root, name, run_id, part)
        schema = TABLES[name].arrow_schema
        if fs.exists(path):
            with fs.open(path, "rb") as handle:
                tables[name] = pq.read_table(handle, schema=schema)
        else:
            tables[name] = schema.empty_table()
    return tables


# --- runs waiting for a busy warehouse, and who owns a run's folders ---------------------------
PENDING = "_pending"  # <lake>/_pending/<run_id>.json: a run whose parts are written, not yet loaded
OWNERS = "_owners"  # <lake>/_owners/<run_id>: the warehouse a run's folders belong to


def write_pending(fs: Any, root: str, run: RunRecord) -> str:
    """Record `run` (its `runs` row) as written to the lake but not loaded: the next load takes it first."""
    path = f"{root}/{PENDING}/{run.run_id}.json"
    fs.makedirs(f"{root}/{PENDING}", exist_ok=True)
    row = {key: value.isoformat() if isinstance(value, datetime) else value for key, value in run.row().items()}
    with fs.open(path, "w") as out:
        out.write(json.dumps(row))
    return path


def read_pending(fs: Any, root: str, owner: str | None = None) -> list[RunRecord]:
    """The pending runs (oldest first), those of warehouse `owner` only when given."""
    base = f"{root}/{PENDING}"
    if not fs.exists(base):
        return []
    runs = []
    for entry in sorted(fs.ls(base, detail=False)):
        if not entry.endswith(".json"):
            continue
        with fs.open(entry, "r") as source:
            row = json.loads(source.read())
        for moment in ("started_at", "finished_at"):
            row[moment] = datetime.fromisoformat(row[moment]) if row.get(moment) else None
        if owner is None or owner_of(fs, root, row["run_id"]) in (None, owner):
            runs.append(RunRecord(**row))
    return runs


def clear_pending(fs: Any, root: str, run_id: str) -> None:
    path = f"{root}/{PENDING}/{run_id}.json"
    if fs.exists(path):
        fs.rm(path)


def write_owner(fs: Any, root: str, run_id: str, owner: str) -> None:
    """Record the warehouse (`owner`, a resolved path or URL) that a run's lake folders belong to."""
    fs.makedirs(f"{root}/{OWNERS}", exist_ok=True)
    with fs.open(f"{root}/{OWNERS}/{run_id}", "w") as out:
        out.write(owner)


def owner_of(fs: Any, root: str, run_id: str) -> str | None:
    path = f"{root}/{OWNERS}/{run_id}"
    if not fs.exists(path):
        return None
    with fs.open(path, "r") as source:
        return str(source.read()).strip()


def owned_runs(fs: Any, root: str, owner: str) -> set[str]:
    """The run ids whose folders belong to warehouse `owner`."""
    base = f"{root}/{OWNERS}"
    if not fs.exists(base):
        return set()
    mine = set()
    for entry in fs.ls(base, detail=False):
        run_id = entry.rstrip("/").rsplit("/", 1)[-1]
        if owner_of(fs, root, run_id) == owner:
            mine.add(run_id)
    return mine


def remove_own_runs(fs: Any, root: str, owner: str, keep: Iterable[str], min_age_s: float = STALE_AFTER_S) -> list[str]:
    """`remove_runs` for one warehouse: only the crashed runs it owns, never a pending one nor another
    warehouse's (runs with no owner record, from before owners were recorded, are left alone)."""
    keep = set(keep) | {r.run_id for r in read_pending(fs, root)}
    mine = owned_runs(fs, root, owner)
    others = _run_ids(fs, root) - mine
    removed = remove_runs(fs, root, keep | others, min_age_s)
    for run_id in mine - keep:
        if not any(entry.endswith(f"run_id={run_id}") for entry in _run_folders(fs, root)):
            fs.rm(f"{root}/{OWNERS}/{run_id}")
    return removed


def _run_folders(fs: Any, root: str) -> list[str]:
    folders = []
    for table in TABLES:
        base = f"{root}/{table}"
        if fs.exists(base):
            folders += [e.rstrip("/") for e in fs.ls(base, detail=False) if "run_id=" in e]
    return folders


def _run_ids(fs: Any, root: str) -> set[str]:
    return {folder.rsplit("run_id=", 1)[-1] for folder in _run_folders(fs, root)}
