"""Records -> lake parts -> DuckDB and back: the same records, once, versioned; checks that can fail."""

from __future__ import annotations

import dataclasses
import json
import string
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.warehouse.crash_child import Batch, build_records, changed, copy_batch, fetches, write_and_load
from transforms.errors import PermanentError
from transforms.models import Article, Block, Entity, Fetch, Mention, Quote, Reject, RunRecord, to_article_id, to_content_hash
from warehouse import arrow, lake
from warehouse.load import CHECKS, connect, load_run, query_checks, query_counts
from warehouse.schema import MIGRATIONS, SCHEMA_VERSION, TABLES, ensure_db_shape, run_sql

AT = datetime(2025, 3, 1, 6, tzinfo=timezone.utc)


# --- reading the warehouse back into records ---------------------------------------------------

def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _fields(cls: Any, row: dict[str, Any]) -> dict[str, Any]:
    return {f.name: row[f.name] for f in dataclasses.fields(cls)}


def read_back(con: duckdb.DuckDBPyConnection, table: str = "articles") -> Batch:
    """Every record in the warehouse, as the dataclasses the pipeline wrote."""
    articles = []
    for row in _rows(con, f"SELECT * FROM {table}"):
        row["authors"] = tuple(row["authors"] or ())
        row["blocks"] = tuple(Block(b["kind"], b["start"], b["end"]) for b in row["blocks"] or ())
        row["provenance"] = tuple((p["field"], p["source"]) for p in row["provenance"] or ())
        articles.append(Article(**_fields(Article, row)))
    fetched = []
    for row in _rows(con, "SELECT * FROM fetches"):
        row["fetched_at"] = row["fetched_at"].astimezone(timezone.utc)
        fetched.append(Fetch(**_fields(Fetch, row)))
    return Batch(
        articles=articles,
        raw_hashes={r["uri"]: r["raw_hash"] for r in _rows(con, f"SELECT uri, raw_hash FROM {table}") if r["raw_hash"]},
        mentions=[Mention(**_fields(Mention, r)) for r in _rows(con, "SELECT * FROM mentions")],
        entities=[Entity(**_fields(Entity, r)) for r in _rows(con, "SELECT * FROM entities")],
        quotes=[Quote(**_fields(Quote, r)) for r in _rows(con, "SELECT * FROM quotes")],
        rejects=[Reject(**_fields(Reject, r)) for r in _rows(con, "SELECT * FROM rejects")],
        fetches=fetched,
    )


def _key(record: Any) -> str:
    return repr(record)


def assert_same_records(got: Batch, want: Batch) -> None:
    for name in ("articles", "mentions", "entities", "quotes", "rejects", "fetches"):
        have, expected = getattr(got, name), getattr(want, name)
        # entities repeat across articles of a batch; the warehouse keeps one per id
        expected = list({_key(r): r for r in expected}.values()) if name == "entities" else expected
        assert sorted(map(_key, have)) == sorted(map(_key, expected)), name
    assert got.raw_hashes == {a.uri: want.raw_hashes[a.uri] for a in want.articles if a.uri in want.raw_hashes}


def _open(folder: Path) -> duckdb.DuckDBPyConnection:
    return connect(folder / "w.duckdb", timeout_s=5)


@pytest.fixture(scope="module")
def real() -> Batch:
    """The real seeds, extracted and analysed, with the rejects and fetches a web run records."""
    base = build_records()
    batch = copy_batch(base, "seeds")
    batch.rejects = [Reject("seeds/empty.txt", "read", "empty", "seeds/empty.txt is empty: nothing to extract"),
                     Reject("https://news.example.org/x", "fetch", "http_404", "404 Not Found", None, "one-fetch-2")]
    batch.fetches = fetches("one", 5, AT)
    return batch


# --- round trip ----------------------------------------------------------------------------------

def test_round_trip_of_the_real_seeds_returns_the_same_records(tmp_path: Path, real: Batch) -> None:
    added, checks = write_and_load(tmp_path, "run-1", [real], AT)
    assert added["articles"] == len(real.articles) and added["mentions"] == len(real.mentions) > 50
    assert added["quotes"] == len(real.quotes) > 5 and added["fetches"] == 5 and added["rejects"] == 2
    assert not {k: n for k, n in checks.items() if n}
    con = _open(tmp_path)
    assert_same_records(read_back(con), real)
    assert run_sql(con, "SELECT count(*) FROM runs WHERE run_id = 'run-1' AND checks IS NOT NULL")[0][0] == 1
    aliases = run_sql(con, "SELECT sum(count) FROM entity_aliases")[0][0]
    assert aliases == len(real.mentions)


def test_loading_the_same_records_again_adds_nothing(tmp_path: Path, real: Batch) -> None:
    write_and_load(tmp_path, "run-1", [real], AT)
    con = _open(tmp_path)
    first = query_counts(con)
    con.close()
    added, _ = write_and_load(tmp_path, "run-2", [real], AT + timedelta(hours=1))
    assert {t: n for t, n in added.items() if n} == {"runs": 1}
    con = _open(tmp_path)
    assert query_counts(con) == {**first, "runs": 2}
    assert_same_records(read_back(con), real)


def test_a_run_loaded_twice_under_its_own_id_is_loaded_once(tmp_path: Path, real: Batch) -> None:
    """The flow retries `load_warehouse` with the same run id when a crash came after COMMIT."""
    write_and_load(tmp_path, "run-1", [real], AT)
    fs, root = lake.lake_filesystem(str(tmp_path / "lake"))
    con = _open(tmp_path)
    counts = query_counts(con)
    recorded = run_sql(con, "SELECT checks FROM runs")[0][0]
    added, checks = load_run(con, RunRecord("run-1", AT), lake.read_run(fs, root, "run-1"))
    assert not any(added.values()) and query_counts(con) == counts
    assert checks == json.loads(recorded) and set(checks) == set(CHECKS)


def test_a_changed_article_adds_a_version_and_current_views_show_the_newest(tmp_path: Path, real: Batch) -> None:
    write_and_load(tmp_path, "run-1", [real], AT)
    new = changed(real, "Correction: an earlier version of this article misnamed a source.")
    added, checks = write_and_load(tmp_path, "run-2", [dataclasses.replace(new, rejects=[], fetches=[])],
                                   AT + timedelta(days=1))
    assert added["articles"] == len(real.articles)
    assert added["mentions"] == len(real.mentions) and added["quotes"] == len(real.quotes)
    assert not {k: n for k, n in checks.items() if n}
    con = _open(tmp_path)
    versions = run_sql(con, "SELECT article_id, count(*) FROM articles GROUP BY 1")
    assert {n for _, n in versions} == {2} and len(versions) == len(real.articles)
    current = read_back(con, "current_articles").articles
    assert sorted(map(_key, current)) == sorted(map(_key, new.articles))
    # the newest version keeps all its quotes and mentions (same offsets as the older one)
    assert run_sql(con, "SELECT count(*) FROM current_quotes")[0][0] == len(real.quotes)
    assert run_sql(con, "SELECT count(*) FROM current_mentions")[0][0] == len(real.mentions)
    assert run_sql(con, "SELECT count(DISTINCT content_hash) FROM current_quotes")[0][0] == len(
        {q.article_id for q in real.quotes})


# --- property: any records make the round trip -----------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=80)
WORDS = st.text(string.ascii_letters + " éüßøç中文😀\u0301„“«»", min_size=1, max_size=20)


@st.composite
def records(draw: st.DrawFn) -> Batch:
    batch = Batch()
    entities = [Entity(f"e{i}", draw(WORDS), draw(st.sampled_from(["PERSON", "ORG", "GPE"])))
                for i in range(draw(st.integers(1, 3)))]
    batch.entities = entities
    for i in range(draw(st.integers(1, 3))):
        text = draw(TEXT)
        uri = f"seed/{i}.txt"
        a = Article(to_article_id(f"seed:{uri}"), to_content_hash(text), uri, "seed", text,
                    title=draw(st.none() | WORDS), authors=tuple(draw(st.lists(WORDS, max_size=3))),
                    published_at=draw(st.none() | st.just("2024-05-01T09:30:00+02:00")),
                    blocks=(Block("paragraph", 0, len(text)),), provenance=(("title", "text"),) if i else ())
        batch.articles.append(a)
        batch.raw_hashes[uri] = f"{i:064x}"
        spans = draw(st.lists(st.tuples(st.integers(0, len(text)), st.integers(0, len(text))), max_size=4,
                              unique_by=lambda s: min(s)))
        for x, y in spans:
            start, end = min(x, y), max(x, y)
            entity = draw(st.sampled_from(entities))
            batch.mentions.append(Mention(a.article_id, start, end, text[start:end], entity.type, entity.name,
                                          entity.entity_id, "ner"))
            batch.quotes.append(Quote(a.article_id, start, end, text[start:end], "direct", cue=None,
                                      speaker=text[start:end] if end > start else None,
                                      speaker_start=start if end > start else None,
                                      speaker_end=end if end > start else None,
                                      speaker_entity_id=entity.entity_id if end > start else None,
                                      confidence=draw(st.floats(0, 1)), method="rule"))
    batch.rejects = [Reject(draw(TEXT), "extract", "no_article_text", draw(TEXT))]
    return batch


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=records())
def test_any_records_make_the_round_trip(tmp_path_factory: pytest.TempPathFactory, batch: Batch) -> None:
    folder = tmp_path_factory.mktemp("prop")
    added, checks = write_and_load(folder, "run-1", [batch], AT)
    assert not {k: n for k, n in checks.items() if n}
    con = _open(folder)
    try:
        assert_same_records(read_back(con), batch)
    finally:
        con.close()


# --- incoming files that cannot load whole are refused before the transaction -----------------------

def test_rows_missing_a_required_value_are_refused_and_nothing_loads(tmp_path: Path, real: Batch) -> None:
    tables = arrow.run_tables("run-1", AT, real.articles, real.raw_hashes,
                             _Analysis(real.mentions, real.entities, real.quotes), real.rejects, real.fetches)
    mentions = tables["mentions"].to_pylist()
    mentions[3]["entity_id"] = None
    tables["mentions"] = arrow.to_arrow("mentions", mentions)
    con = _open(tmp_path)
    before = query_counts(con)
    with pytest.raises(PermanentError, match="run-1: 1 mentions rows have no entity_id"):
        load_run(con, RunRecord("run-1", AT), tables)
    assert query_counts(con) == before


def test_rows_written_by_another_run_are_refused(tmp_path: Path, real: Batch) -> None:
    tables = arrow.run_tables("run-0", AT, real.articles, real.raw_hashes,
                             _Analysis(real.mentions, real.entities, real.quotes), [], [])
    con = _open(tmp_path)
    with pytest.raises(PermanentError, match="written by another run"):
        load_run(con, RunRecord("run-1", AT), tables)
    assert sum(query_counts(con).values()) == 0


def test_a_run_streamed_in_pieces_loads_as_it_does_whole(tmp_path: Path, real: Batch) -> None:
    """The flow loads a table at a time in pieces (lake.stream_run); three parts, one piece each."""
    fs, root = lake.lake_filesystem(str(tmp_path / "lake"))
    parts = [copy_batch(real, tag) for tag in ("a", "b", "a")]  # the third part repeats the first: loaded once
    for number, part in enumerate(parts, start=1):
        lake.write_part(fs, root, "run-1", number, arrow.run_tables(
            "run-1", AT, part.articles, part.raw_hashes, _Analysis(part.mentions, part.entities, part.quotes), [], []))
    pieces = lake.stream_run(fs, root, "run-1", max_bytes=1)
    whole = lake.read_run(fs, root, "run-1")
    con = _open(tmp_path)
    added, checks = load_run(con, RunRecord("run-1", AT), pieces)
    assert added["articles"] == 2 * len(real.articles) < whole["articles"].num_rows
    assert added["mentions"] == 2 * len(real.mentions) and added["quotes"] == 2 * len(real.quotes)
    assert not any(checks.values())
    other = connect(tmp_path / "whole.duckdb", timeout_s=5)
    assert load_run(other, RunRecord("run-1", AT), whole)[0] == added
    assert query_counts(other) == query_counts(con)


def test_a_bad_piece_mid_way_rolls_the_whole_run_back(tmp_path: Path, real: Batch) -> None:
    good = arrow.run_tables("run-1", AT, real.articles, real.raw_hashes,
                           _Analysis(real.mentions, real.entities, real.quotes), [], [])
    mentions = good["mentions"].to_pylist()
    mentions[0]["entity_id"] = None
    bad = arrow.to_arrow("mentions", mentions)
    con = _open(tmp_path)
    before = query_counts(con)
    streamed = {**good, "mentions": iter([good["mentions"].slice(0, 5), bad])}
    with pytest.raises(PermanentError, match="run-1: 1 mentions rows have no entity_id"):
        load_run(con, RunRecord("run-1", AT), streamed)
    assert query_counts(con) == before


@dataclasses.dataclass(frozen=True)
class _Analysis:
    mentions: list[Mention]
    entities: list[Entity]
    quotes: list[Quote]


# --- each data check catches a planted fault ---------------------------------------------------------

ONE_MENTION = "(SELECT min(start) FROM mentions WHERE start > 0)"
ONE_QUOTE = "(SELECT min(quote_id) FROM quotes WHERE cue IS NOT NULL AND speaker IS NOT NULL)"
ONE_ARTICLE = "(SELECT min(article_id) FROM articles)"
FAULTS: dict[str, list[str]] = {
    "mention_offsets": [f"UPDATE mentions SET text = text || 'x' WHERE start = {ONE_MENTION}"],
    "quote_offsets": [f"UPDATE quotes SET \"end\" = \"end\" + 100000 WHERE quote_id = {ONE_QUOTE}"],
    "speaker_offsets": [f"UPDATE quotes SET speaker_start = speaker_start + 1 WHERE quote_id = {ONE_QUOTE}"],
    "cue_offsets": [f"UPDATE quotes SET cue = upper(cue) || 'x' WHERE quote_id = {ONE_QUOTE}"],
    "block_offsets": [f"UPDATE articles SET blocks = [{{'kind': 'paragraph', 'start': 5, 'end': 2}}] "
                      f"WHERE article_id = {ONE_ARTICLE}"],
    "content_hashes": [f"UPDATE articles SET text = text || ' ' WHERE article_id = {ONE_ARTICLE}"],
    "orphan_mentions": [f"UPDATE mentions SET entity_id = 'no-such-entity' WHERE start = {ONE_MENTION}"],
    "orphan_quotes": ["INSERT INTO quotes SELECT * REPLACE ('gone' AS quote_id, 'no-such-article' AS article_id) "
                      "FROM quotes LIMIT 1"],
    "orphan_aliases": ["INSERT INTO entity_aliases VALUES ('no-such-entity', 'Nobody', 1, NULL, NULL, 'run-1')"],
    "required_nulls": ['ALTER TABLE fetches ALTER COLUMN url DROP NOT NULL',
                       "INSERT INTO fetches (fetch_id, url, run_id) VALUES ('f-null', NULL, 'run-1')"],
    "rows_without_run": ["UPDATE rejects SET run_id = 'never-ran' WHERE reject_id = (SELECT min(reject_id) FROM rejects)"],
}


def test_every_check_has_a_planted_fault() -> None:
    assert set(FAULTS) == set(CHECKS)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, real: Batch) -> Path:
    folder = tmp_path_factory.mktemp("loaded")
    _, checks = write_and_load(folder, "run-1", [real], AT)
    assert not {k: n for k, n in checks.items() if n}
    return folder / "w.duckdb"


@pytest.mark.parametrize("check", sorted(FAULTS))
def test_each_check_catches_its_planted_fault(loaded: Path, tmp_path: Path, check: str) -> None:
    path = tmp_path / "w.duckdb"
    path.write_bytes(loaded.read_bytes())
    con = duckdb.connect(str(path))
    for statement in FAULTS[check]:
        run_sql(con, statement)
    found = query_checks(con)
    assert found[check] >= 1, found
    assert not {k: n for k, n in found.items() if n and k != check}, f"the fault for {check} tripped others: {found}"
    # What load_run records: the rows of the run being loaded (aliases and run ids: always all rows).
    assert query_checks(con, "run-1")[check] == found[check]
    if check not in ("orphan_aliases", "rows_without_run"):
        assert query_checks(con, "another-run")[check] == 0


# --- migrations ------------------------------------------------------------------------------------

def test_a_version_1_database_is_brought_to_the_current_version_without_losing_rows(tmp_path: Path, real: Batch) -> None:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    run_sql(con, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
                 "applied_at TIMESTAMPTZ NOT NULL)")
    version, name, apply = MIGRATIONS[0]
    apply(con)
    run_sql(con, "INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    fs, root = lake.lake_filesystem(str(tmp_path / "lake"))
    tables = arrow.run_tables("run-1", AT, real.articles, real.raw_hashes,
                             _Analysis(real.mentions, real.entities, real.quotes), real.rejects, real.fetches)
    lake.write_part(fs, root, "run-1", 1, tables)
    load_run(con, RunRecord("run-1", AT), lake.read_run(fs, root, "run-1"))
    before = query_counts(con)
    assert not run_sql(con, "SELECT * FROM duckdb_views() WHERE view_name = 'current_articles'")
    con.close()

    con = duckdb.connect(str(path))
    assert ensure_db_shape(con) == SCHEMA_VERSION
    assert [r[0] for r in run_sql(con, "SELECT version FROM schema_migrations ORDER BY 1")] == \
        list(range(1, SCHEMA_VERSION + 1))
    assert query_counts(con) == before
    assert run_sql(con, "SELECT count(*) FROM current_articles")[0][0] == len(real.articles)
    assert_same_records(read_back(con), real)
    con.close()
    con = connect(path, timeout_s=5)  # the flow's way in: nothing left to apply
    assert query_counts(con) == before
