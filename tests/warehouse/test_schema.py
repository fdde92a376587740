from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from warehouse.schema import SCHEMA_VERSION, TABLES, WARC_CHECKPOINTS, Table, ensure_db_shape


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


KEYED = {**TABLES, WARC_CHECKPOINTS.name: WARC_CHECKPOINTS}  # every table the schema declares


def _value(type_: pa.DataType, variant: int) -> object:
    """A value of the column's type; variants 0 and 1 differ."""
    if pa.types.is_list(type_):
        return [_value(type_.value_type, variant)]
    if pa.types.is_struct(type_):
        return {field.name: _value(field.type, variant) for field in type_}
    if pa.types.is_timestamp(type_):
        return datetime(2024, 1, 1 + variant, tzinfo=timezone.utc)
    if pa.types.is_boolean(type_):
        return bool(variant)
    if pa.types.is_integer(type_):
        return 1 + variant
    if pa.types.is_floating(type_):
        return 0.5 + variant
    assert pa.types.is_string(type_), type_
    return f"v{variant}"


def _row(table: Table, key_variant: int, other_variant: int) -> list[object]:
    return [_value(c.type, key_variant if c.name in table.key else other_variant) for c in table.columns]


def test_every_table_has_a_key_that_holds(tmp_path: Path) -> None:
    """Two rows with the same key and different other columns: the second must be refused, in every table.

    The keys make re-runs and crashed runs idempotent (the load merges on them), so each is checked
    by inserting into the table, not by reading the DDL.
    """
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_db_shape(con)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
    assert tables == set(KEYED) | {"schema_migrations"}, "a table is missing from the schema declaration"
    keys = {r[0]: tuple(r[1]) for r in con.execute(
        "SELECT table_name, constraint_column_names FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'"
        " AND table_name <> 'schema_migrations'").fetchall()}
    assert keys == {name: table.key for name, table in KEYED.items()}  # the DDL's keys are the declared ones
    for name, table in KEYED.items():
        assert table.key and set(table.key) <= set(table.column_names), name
        assert len(table.key) < len(table.columns), f"{name}: no column outside the key to vary"
        cols = ", ".join(f'"{c}"' for c in table.column_names)
        insert = f"INSERT INTO {name} ({cols}) VALUES ({', '.join('?' for _ in table.columns)})"
        con.execute(insert, _row(table, 0, 0))
        con.execute(insert, _row(table, 1, 0))  # another key: accepted
        with pytest.raises(duckdb.ConstraintException):
            con.execute(insert, _row(table, 0, 1))  # the first row's key again: refused
        rows = con.execute(f"SELECT count(*) FROM {name}").fetchone()
        assert rows == (2,), (name, rows)
