"""Language identification: the text decides, the declaration is kept, disagreements are recorded."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.language import MIN_CONFIDENCE, LanguageGuess, detect_language, identify_language, normalise_language
from transforms.models import Article

GERMAN = ("Die Bundesregierung hat am Mittwoch ein neues Gesetz zur Förderung erneuerbarer Energien beschlossen. "
          "Der Ausbau von Wind- und Solaranlagen soll damit deutlich schneller vorankommen als bisher geplant.")


@pytest.mark.parametrize("tag, code", [
    ("en-US", "en"), ("en_us", "en"), ("EN", "en"), ("fr-FR,fr;q=0.9", "fr"), ("deu", "de"), ("ger", "de"),
    ("German", "de"), ("nb-NO", "no"), ("nn", "no"), ("iw", "he"), ("yue", "yue"), ("utf-", None), ("und", None),
    ("", None), (None, None), ("12", None), ("zxx", None),
])
def test_normalise_language(tag: str | None, code: str | None) -> None:
    assert normalise_language(tag) == code


def test_detects_languages_and_says_when_it_cannot() -> None:
    assert detect_language(GERMAN).language == "de"
    assert detect_language(GERMAN).confidence > 0.99
    assert detect_language("Путин заявил, что переговоры продолжатся на следующей неделе.").language == "ru"
    assert detect_language("政府は新しい経済対策を発表した。").language in ("ja", "zh")
    assert detect_language("12:30 — 4:2 (3:1)") == LanguageGuess(None, 0.0)


def _article(text: str, language: str | None, source: str = "html") -> Article:
    provenance = (("text", "trafilatura"),) + ((("language", source),) if language else ())
    return Article("a1", "h", "u", "url", text, language=language, provenance=provenance)


def test_the_text_wins_and_the_disagreement_is_recorded() -> None:
    article = identify_language(_article(GERMAN, "en-us"))
    assert (article.language, article.language_confidence) == ("de", pytest.approx(1.0, abs=0.01))
    provenance = dict(article.provenance)
    assert provenance["language"] == "text"
    assert provenance["declared_language"] == "html:en-us"
    assert provenance["language_disagreement"] == "declared en, text de"


def test_agreeing_declaration_is_kept_without_disagreement() -> None:
    article = identify_language(_article(GERMAN, "de-AT", "json_ld"))
    assert article.language == "de"
    assert dict(article.provenance)["declared_language"] == "json_ld:de-AT"
    assert "language_disagreement" not in dict(article.provenance)


def test_undecided_text_falls_back_on_the_declaration() -> None:
    article = identify_language(_article("OK", "fr"), LanguageGuess("en", MIN_CONFIDENCE / 2))
    assert (article.language, article.language_confidence) == ("fr", None)
    assert dict(article.provenance)["language"] == "declared"
    bare = identify_language(_article("12 34", None))
    assert (bare.language, bare.language_confidence) == (None, None)
    assert "language" not in dict(bare.provenance)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=12)))
def test_never_raises_and_is_idempotent(text: str, declared: str | None) -> None:
    once = identify_language(_article(text, declared))
    assert once.language is None or once.language == normalise_language(once.language)
    assert identify_language(once).language == once.language
