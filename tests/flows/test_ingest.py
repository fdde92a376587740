"""The real ingest-news flow on the real seeds (plus bad ones) against a temporary warehouse."""

from __future__ import annotations

import gzip
import shutil
from typing import Any

import pytest

from tests.conftest import SEEDS, count_rows
from tests.conftest import query_warehouse as _query
from tests.golden.records import read_golden

GOLDEN_QUOTES = [(r["text"], r["speaker_canonical"]) for r in read_golden("seed_quotes.json")
                 if r["kind"] in ("direct", "partial")]
SEED_ENTITIES = {e["name"] for e in read_golden("seed_entities.json")["entities"]}
LATIN1_TEXT = "Zürich café owner Jürgen Müller says the façade will be restored. \"Ça suffit,\" he said."
CP1252_TEXT = "“Ça suffit,” says Señor Peña – the café’s owner in Zürich."


@pytest.fixture(scope="module")
def ingested(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from flows.cli import main

    root = tmp_path_factory.mktemp("ingest")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "bad_empty.txt").write_bytes(b"")
    (seeds / "bad_binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (seeds / "bad_no_article.html").write_text(
        "<html><head><title>Home</title></head><body><nav><a href='/a'>News</a> <a href='/b'>Sport</a></nav>"
        "<footer>© 2024</footer></body></html>", encoding="utf-8")
    (seeds / "latin1.txt").write_bytes(f"A Latin-1 seed\n\n{LATIN1_TEXT}".encode("latin-1"))
    (seeds / "cp1252.txt").write_bytes(f"A Windows-1252 seed\n\n{CP1252_TEXT}".encode("cp1252"))
    # Same bytes gzipped as .html.gz must read like the plain page.
    page = next(p for p in sorted(SEEDS.glob("*.html")))
    (seeds / "gz_copy.html.gz").write_bytes(gzip.compress(page.read_bytes()))
    warehouse = root / "w.duckdb"
    args = ["run", "--seeds", str(seeds), "--warehouse", str(warehouse), "--lake", str(root / "lake"), "--workers", "1"]

    def counts() -> dict[str, int]:
        return count_rows(warehouse, ("articles", "mentions", "entities", "entity_aliases", "quotes", "rejects",
                                      "fetches"))

    first_code = main(args)
    first = counts()
    second_code = main(args)
    second = counts()
    return {"warehouse": warehouse, "first": first, "second": second, "codes": (first_code, second_code),
            "seeds": seeds}


def test_rerun_is_idempotent(ingested: dict[str, Any]) -> None:
    assert ingested["first"] == ingested["second"]
    assert ingested["first"]["articles"] > 0 and ingested["first"]["mentions"] > 0
    runs = _query(ingested["warehouse"], "SELECT count(*) FROM runs")[0][0]
    assert runs == 2  # `runs` is the run log: one row per run


def test_exit_code_reports_rejects(ingested: dict[str, Any]) -> None:
    assert ingested["codes"] == (1, 1)


def test_bad_seeds_rejected_with_reasons(ingested: dict[str, Any]) -> None:
    rows = dict(_query(ingested["warehouse"], "SELECT uri, reason FROM rejects"))
    assert rows["bad_empty.txt"] == "empty"
    assert rows["bad_binary.txt"] == "binary"
    assert "bad_no_article.html" in rows
    assert len(rows) == 3, rows


def test_legacy_encoding_seed_loaded_not_garbled(ingested: dict[str, Any]) -> None:
    (text,) = _query(ingested["warehouse"], "SELECT text FROM articles WHERE uri = 'latin1.txt'")[0]
    assert LATIN1_TEXT in text
    (text,) = _query(ingested["warehouse"], "SELECT text FROM articles WHERE uri = 'cp1252.txt'")[0]
    assert CP1252_TEXT in text


def test_gzipped_html_seed_read(ingested: dict[str, Any]) -> None:
    rows = _query(ingested["warehouse"], "SELECT title FROM articles WHERE uri = 'gz_copy.html.gz'")
    assert rows and rows[0][0]


def test_seed_golden_quotes_in_sql(ingested: dict[str, Any]) -> None:
    rows = _query(ingested["warehouse"], """
        SELECT q.text, e.name, q.kind FROM quotes q JOIN articles a USING (article_id, content_hash)
        LEFT JOIN entities e ON e.entity_id = q.speaker_entity_id
        WHERE a.uri = '000_e3185f102c2f0dfe.txt' AND q.kind IN ('direct', 'partial') ORDER BY q.start""")
    assert len(rows) == len(GOLDEN_QUOTES), rows
    for (text, speaker, _), (want_text, want_speaker) in zip(rows, GOLDEN_QUOTES):
        assert want_text in text
        assert speaker == want_speaker, (text, speaker)


def test_seed_entities_in_sql(ingested: dict[str, Any]) -> None:
    names = {r[0] for r in _query(ingested["warehouse"], """
        SELECT DISTINCT e.name FROM mentions m JOIN articles a USING (article_id, content_hash)
        JOIN entities e USING (entity_id) WHERE a.uri = '000_e3185f102c2f0dfe.txt'""")}
    assert SEED_ENTITIES <= names, SEED_ENTITIES - names
    surface = _query(ingested["warehouse"], """
        SELECT DISTINCT m.text, e.name FROM mentions m JOIN articles a USING (article_id, content_hash)
        JOIN entities e USING (entity_id) WHERE a.uri = '000_e3185f102c2f0dfe.txt'
          AND m.text IN ('Putin', 'US', 'Xi')""")
    assert set(surface) == {("Putin", "Vladimir Putin"), ("US", "United States"), ("Xi", "Xi Jinping")}


def test_every_offset_slices_its_text(ingested: dict[str, Any]) -> None:
    checks = _query(ingested["warehouse"], "SELECT checks FROM runs ORDER BY started_at DESC LIMIT 1")[0][0]
    import json

    assert all(v == 0 for v in json.loads(checks).values()), checks


def test_views_answer(ingested: dict[str, Any]) -> None:
    speakers = {r[0] for r in _query(ingested["warehouse"], "SELECT speaker FROM most_quoted_speakers")}
    assert {"Andrei Piontkowski", "Ulrich Schmid"} <= speakers
    about = _query(ingested["warehouse"], "SELECT count(*) FROM quotes_about WHERE speaker = 'Ulrich Schmid'")
    assert about[0][0] > 0


@pytest.mark.parametrize("name", sorted(p.stem for p in (SEEDS.parent / "warehouse" / "queries").glob("*.sql")))
def test_named_queries_run(ingested: dict[str, Any], name: str, capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import main

    assert main(["sql", "--file", name, "--warehouse", str(ingested["warehouse"]), "--format", "json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    if name in {"who_is_quoted", "quotes_about", "quotes_by_speaker", "entity_pairs", "entity_aliases", "runs"}:
        assert rows, f"{name} returned nothing on the seeds"
