"""Are two warehouses the same? Every table and view compared as a multiset of rows.

    python -m evaluation.warehouses A.duckdb B.duckdb     # exit 0 identical, 1 different, 2 unusable input

This is how a restructuring proves it changed nothing: build a warehouse from the seeds with the
old code and one with the new, then compare them. Both files are attached read-only to one
in-memory DuckDB and each relation is compared in SQL (`EXCEPT ALL` both ways), so row order
does not matter but a row held twice does, and nested values (lists, structs) compare exactly.

Some columns differ between two runs of the same code on the same input, by design; they are
left out of the comparison (VOLATILE says why for each), and so are the timestamps of views (VIEW_CLOCK). Everything else must be equal, except
that doubles are rounded to DIGITS decimals (a summation order may move the last bits) and the
paths a run was given are dropped from `runs.settings` (two warehouses live at two paths).
The full-text index's own tables (schema `fts_main_*`) are not compared: they are derived from
`search_documents`, which is, and their internal document numbers follow insertion order.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

# column -> why two runs of the same code on the same input legitimately differ in it
VOLATILE: dict[str, str] = {
    "run_id": "a run's id is its start time plus a random suffix",
    "flow_run_id": "Prefect's id of the flow run (a random UUID)",
    "fetch_id": "an id per fetch attempt, from the clock and a random number",
    "reject_id": "a hash that includes the reject's fetch_id",
    "elapsed_ms": "how long a fetch took",
    "loaded_at": "clock time of the load",
    "started_at": "clock time of the run",
    "finished_at": "clock time of the run",
    "rejected_at": "clock time of the load",
    "fetched_at": "clock time of the fetch",
    "first_seen_at": "clock time of the load that first saw the alias",
    "last_seen_at": "clock time of the load that last saw the alias",
    "applied_at": "clock time of the migration",
    "updated_at": "clock time of the WARC checkpoint",
}
# A view's timestamps (article_outlets.published_at, story_outlets.first_published_at, ...) fall back to
# the load's clock time (loaded_at) where a page gives no date; the dates themselves are compared as
# the strings articles.published_at and modified_at, and every other view column is compared.
VIEW_CLOCK = "the timestamp columns of views"
# JSON keys dropped from runs.settings: where the run wrote, not what it did
SETTINGS_PATHS = ("warehouse", "lake")
DIGITS = 9
SAMPLE = 3


@dataclass(frozen=True)
class RelationDiff:
    """One table or view: rows only in A, rows only in B (counted with multiplicity), and a few of each."""

    name: str
    rows_a: int
    rows_b: int
    only_a: int
    only_b: int
    sample_a: tuple[tuple[object, ...], ...] = ()
    sample_b: tuple[tuple[object, ...], ...] = ()
    problem: str = ""  # the relation is missing on one side or its columns differ

    @property
    def same(self) -> bool:
        return not (self.problem or self.only_a or self.only_b)


def _relations(con: duckdb.DuckDBPyConnection, alias: str) -> dict[str, list[tuple[str, str]]]:
    """Relation name -> [(column, type)] of one attached file, leaving out the fts index schemas.

    A view's timestamp columns are left out too (VIEW_CLOCK)."""
    rows = con.execute(
        "SELECT c.table_schema, c.table_name, c.column_name, c.data_type, t.table_type "
        "FROM information_schema.columns c JOIN information_schema.tables t USING (table_catalog, table_schema, "
        "table_name) WHERE c.table_catalog = ? AND c.table_schema NOT LIKE 'fts_main_%' "
        "ORDER BY c.table_schema, c.table_name, c.ordinal_position", [alias]).fetchall()
    relations: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, type_, kind in rows:
        name = table if schema == "main" else f"{schema}.{table}"
        columns = relations.setdefault(name, [])
        if not (kind == "VIEW" and str(type_).startswith("TIMESTAMP")):
            columns.append((str(column), str(type_)))
    return relations


def _expression(relation: str, column: str, type_: str) -> str:
    quoted = f'"{column}"'
    if type_ in ("DOUBLE", "FLOAT", "REAL"):
        return f"round({quoted}, {DIGITS}) AS {quoted}"
    if relation == "runs" and column == "settings":
        patch = "{" + ", ".join(f'"{key}": null' for key in SETTINGS_PATHS) + "}"
        return f"json_merge_patch({quoted}, '{patch}')::VARCHAR AS {quoted}"
    return quoted


def _compare(con: duckdb.DuckDBPyConnection, name: str, columns_a: list[tuple[str, str]],
             columns_b: list[tuple[str, str]]) -> RelationDiff:
    path = ".".join(f'"{part}"' for part in name.split("."))
    rows_a = int(con.execute(f"SELECT count(*) FROM a.{path}").fetchone()[0])  # type: ignore[index]
    rows_b = int(con.execute(f"SELECT count(*) FROM b.{path}").fetchone()[0])  # type: ignore[index]
    if columns_a != columns_b:
        return RelationDiff(name, rows_a, rows_b, 0, 0,
                            problem=f"columns differ: {sorted(set(columns_a) ^ set(columns_b))}")
    select = ", ".join(_expression(name, c, t) for c, t in columns_a if c not in VOLATILE)
    only: list[tuple[int, tuple[tuple[object, ...], ...]]] = []
    for first, second in (("a", "b"), ("b", "a")):
        difference = f"SELECT {select} FROM {first}.{path} EXCEPT ALL SELECT {select} FROM {second}.{path}"
        count = int(con.execute(f"SELECT count(*) FROM ({difference})").fetchone()[0])  # type: ignore[index]
        sample = tuple(con.execute(f"{difference} LIMIT {SAMPLE}").fetchall()) if count else ()
        only.append((count, sample))
    return RelationDiff(name, rows_a, rows_b, only[0][0], only[1][0], only[0][1], only[1][1])


def compare_warehouses(a: Path, b: Path) -> list[RelationDiff]:
    """One RelationDiff per table or view in either file (DuckDB warehouse files, opened read-only)."""
    for path in (a, b):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such warehouse file")
    con = duckdb.connect()
    try:
        for alias, path in (("a", a), ("b", b)):
            literal = str(path).replace("'", "''")
            con.execute(f"ATTACH '{literal}' AS {alias} (READ_ONLY)")
        relations_a, relations_b = _relations(con, "a"), _relations(con, "b")
        diffs = []
        for name in sorted(relations_a.keys() | relations_b.keys()):
            if name not in relations_b or name not in relations_a:
                side = "A" if name in relations_a else "B"
                diffs.append(RelationDiff(name, 0, 0, 0, 0, problem=f"only in {side}"))
            else:
                diffs.append(_compare(con, name, relations_a[name], relations_b[name]))
        return diffs
    finally:
        con.close()


def render(diffs: list[RelationDiff]) -> str:
    lines = []
    for d in diffs:
        verdict = "same" if d.same else (d.problem or f"{d.only_a} rows only in A, {d.only_b} only in B")
        lines.append(f"{d.name:<28} {d.rows_a:>8} / {d.rows_b:<8} {verdict}")
        lines.extend(f"    A only: {row!r}"[:300] for row in d.sample_a)
        lines.extend(f"    B only: {row!r}"[:300] for row in d.sample_b)
    same = sum(d.same for d in diffs)
    lines.append(f"{same} of {len(diffs)} tables and views the same; not compared: "
                 + ", ".join(sorted(VOLATILE)) + f", {VIEW_CLOCK}; doubles to {DIGITS} decimals; runs.settings without "
                 + "/".join(SETTINGS_PATHS))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.warehouses", description=__doc__.split("\n")[0],
                                     epilog="example: python -m evaluation.warehouses old.duckdb new.duckdb")
    parser.add_argument("a", type=Path, help="a warehouse file (DuckDB)")
    parser.add_argument("b", type=Path, help="another warehouse file")
    args = parser.parse_args(argv)
    try:
        diffs = compare_warehouses(args.a, args.b)
    except (FileNotFoundError, duckdb.Error) as err:
        print(f"evaluation.warehouses: {str(err).splitlines()[0]}", file=sys.stderr)
        return 2
    print(render(diffs))
    return 0 if all(d.same for d in diffs) else 1


if __name__ == "__main__":
    sys.exit(main())
