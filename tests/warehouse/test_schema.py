from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse.schema import SCHEMA_VERSION, TABLES, ensure_db_shape


def test_ddl_matches_arrow_schemas(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert ensure_db_shape(con) == SCHEMA_VERSION
    for name, table in TABLES.items():
        empty = con.sql(f"SELECT * FROM {name} LIMIT 0").to_arrow_table()
        assert empty.schema.names == table.arrow_schema.names, name
        for got, want in zip(empty.schema, table.arrow_schema):
            # DuckDB reports nested/timestamp types in its own spelling; compare the type family.
            assert str(got.type).split("[")[0].split("<")[0] == str(want.type).split("[")[0].split("<")[0], (name, got, want)


def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    ensure_db_shape(con)
    ensure_db_shape(con)
    rows = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))


def test_primary_keys_declared(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_db_shape(con)
    for name, table in TABLES.items():
        row = {c.name: None for c in table.columns}
        for column in table.columns:
            if column.required:
                row[column.name] = {pa.string(): "x", pa.int32(): 1, pa.int64(): 1, pa.float64(): 1.0}.get(column.type, None)
        # inserting the same key twice must fail: the key is a real constraint
        if any(row[c.name] is None for c in table.columns if c.required):
            continue
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"INSERT INTO {name} ({cols}) VALUES ({marks})", list(row.values()))
        try:
            con.execute(f"INSERT INTO {name} ({cols}) VALUES ({marks})", list(row.values()))
        except duckdb.ConstraintException:
            continue
        raise AssertionError(f"{name}: duplicate key accepted")
