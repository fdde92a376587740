"""NLP by language, through the real flow: French through the French pipeline, German and Russian
(no pipeline) loaded with `nlp_status = 'unsupported_language'`, no mentions, quotes by their marks."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from tests.conftest import FIXTURES, SEEDS
from tests.conftest import query_warehouse as _query
from transforms.models import Article

ARTICLES = FIXTURES / "language" / "articles"


def _article(name: str, language: str) -> Article:
    from transforms.language import identify_language
    from transforms.models import Document
    from transforms.text import parse_text

    path = ARTICLES / name
    extracted = parse_text(Document(path.name, "seed", path.read_bytes(), "text/plain"))
    assert extracted.article is not None
    article = identify_language(extracted.article)
    assert article.language == language
    return article


def test_unsupported_languages_never_load_a_pipeline() -> None:
    """German and Russian with no pipeline of their own: quotes by marks, no entities, and no
    pipeline is loaded at all (the English one named here does not even exist)."""
    from flows.languages import UNSUPPORTED, analyse_by_language

    articles = [_article("de_haushalt.txt", "de"), _article("ru_vybory.txt", "ru")]
    analysis = analyse_by_language(articles, {"en": "no_such_english_pipeline"}, [])
    assert analysis.mentions == [] and analysis.entities == []
    assert analysis.nlp_status == {a.article_id: UNSUPPORTED for a in articles}
    by_speaker = {(q.article_id, q.speaker) for q in analysis.quotes}
    assert (articles[0].article_id, "Lindner") in by_speaker
    assert (articles[1].article_id, "Ирина Волкова") in by_speaker
    assert all(q.speaker_entity_id is None for q in analysis.quotes)


def test_french_goes_through_the_french_pipeline() -> None:
    from flows.languages import OK, analyse_by_language

    article = _article("fr_sommet.txt", "fr")
    analysis = analyse_by_language([article], {"en": "no_such_english_pipeline", "fr": "fr_core_news_sm"}, [])
    assert analysis.nlp_status == {article.article_id: OK}
    labels = {(m.text, m.label) for m in analysis.mentions}
    assert ("Emmanuel Macron", "PERSON") in labels and ("Olaf Scholz", "PERSON") in labels
    assert ("Commission européenne", "ORG") in labels
    assert {m.label for m in analysis.mentions} <= {"PERSON", "ORG", "LOC", "GPE"}  # PER/LOC/ORG mapped, MISC dropped
    macron = next(q for q in analysis.quotes if q.text.startswith("« L'Europe"))
    assert macron.speaker == "Emmanuel Macron" and macron.cue == "a déclaré"
    person = {e.entity_id: e for e in analysis.entities}[macron.speaker_entity_id]  # type: ignore[index]
    assert (person.name, person.type) == ("Emmanuel Macron", "PERSON")
    pronoun = next(q for q in analysis.quotes if q.text.startswith("« Nous avancerons"))
    assert pronoun.speaker == "il" and pronoun.speaker_entity_id is not None


@pytest.fixture(scope="module")
def ingested(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from flows.cli import main

    root = tmp_path_factory.mktemp("languages")
    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy(SEEDS / "000_e3185f102c2f0dfe.txt", seeds)
    for path in ARTICLES.glob("*.txt"):
        shutil.copy(path, seeds)
    shutil.copy(FIXTURES / "web" / "cp1251-meta-only.html", seeds / "ru_cp1251.html")
    warehouse = root / "w.duckdb"
    code = main(["run", "--seeds", str(seeds), "--warehouse", str(warehouse), "--lake", str(root / "lake"),
                 "--workers", "1"])
    return {"warehouse": warehouse, "code": code}


def test_run_stores_language_status_and_quotes(ingested: dict[str, Any]) -> None:
    assert ingested["code"] == 0
    rows = _query(ingested["warehouse"], """
        SELECT a.uri, a.language, a.language_confidence, a.nlp_status,
               (SELECT count(*) FROM mentions m WHERE m.article_id = a.article_id) AS mentions,
               (SELECT count(*) FROM quotes q WHERE q.article_id = a.article_id) AS quotes
        FROM current_articles a ORDER BY a.uri""")
    found = {r[0]: r[1:] for r in rows}
    assert found["000_e3185f102c2f0dfe.txt"][0] == "en" and found["000_e3185f102c2f0dfe.txt"][2] == "ok"
    assert found["fr_sommet.txt"][0] == "fr" and found["fr_sommet.txt"][2] == "ok" and found["fr_sommet.txt"][3] > 0
    for uri in ("de_haushalt.txt", "ru_vybory.txt", "ru_cp1251.html"):
        language, confidence, status, mentions, quotes = found[uri]
        assert language == uri[:2] and confidence > 0.9
        assert (status, mentions) == ("unsupported_language", 0)
        assert quotes >= 1, uri
    speakers = _query(ingested["warehouse"], """
        SELECT a.uri, q.speaker, q.speaker_entity_id FROM quotes q JOIN current_articles a USING (article_id)
        WHERE a.language = 'ru' ORDER BY a.uri, q.start""")
    assert ("ru_vybory.txt", "Ирина Волкова", None) in speakers
    assert ("ru_vybory.txt", "Алексей Никитин", None) in speakers
    assert ("ru_vybory.txt", "Дмитрий Соловьёв", None) in speakers
    assert any(uri == "ru_cp1251.html" and speaker.endswith("Анна Смирнова") for uri, speaker, _ in speakers)
    declared = _query(ingested["warehouse"], """
        SELECT p.source FROM current_articles a, unnest(a.provenance) AS t(p)
        WHERE a.uri = 'ru_cp1251.html' AND p.field = 'declared_language'""")
    assert declared == [("html:ru",)]
    counts = _query(ingested["warehouse"], "SELECT counts FROM runs")
    assert '"unsupported_language": 3' in counts[0][0]
