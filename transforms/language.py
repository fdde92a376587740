"""The language of an article, identified from its text (the page's declaration is kept, not trusted).

Pages often declare no language, a regional tag (`en-us`) or the wrong one (a
template's default). The text decides: py3langid (langid.py's model, which ships
inside the package; nothing is downloaded) classifies the first `SAMPLE_CHARS`
characters of the article (its headline and opening lines), and the first
`LONG_SAMPLE_CHARS` when that is not conclusive (probability under `SURE`):
as accurate as the whole text on both labelled sets, at a small share of the
extraction's cost (the identifier walks the text byte by byte in Python, so
the cost grows with the sample; `python -m bench.language` measures both).

`language` is an ISO 639-1 code (`en`, never `en-us`; a language without a
two-letter code keeps its ISO 639-3 code). Provenance says where it came from
(`("language", "text")`), keeps the page's declaration as written
(`("declared_language", "html:en-US")`) and records a disagreement
(`("language_disagreement", "declared en, text de")`). When the text alone is
not conclusive (confidence under `MIN_CONFIDENCE`, a very short text), the
declaration, if any, is used and provenance says `("language", "declared")`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from transforms.models import Article

SAMPLE_CHARS = 150
LONG_SAMPLE_CHARS = 800
SURE = 0.8  # 7 of 327 labelled articles fall under it at 150 characters
MIN_CONFIDENCE = 0.5
MIN_CHARS = 12  # fewer letters than this say nothing about a language
# Retired or macro-language codes, to the code everything else here uses.
_ALIASES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "nb": "no", "nn": "no", "mo": "ro", "sh": "sr"}
_UNDETERMINED = frozenset({"und", "zxx", "mul", "mis", "xx"})


@dataclass(frozen=True)
class LanguageGuess:
    """What the text says: an ISO 639-1 code (None when undetermined) and the identifier's probability."""

    language: str | None
    confidence: float


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's identifier with probabilities, loaded once per process from the model in its package."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def normalise_language(tag: str | None) -> str | None:
    """A declared language tag as an ISO 639-1 code: `en-US` -> `en`, `fr_FR` -> `fr`, `deu` -> `de`,
    `English` -> `en`; None for what is not a language (`utf-8`, `und`, empty)."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].split(",")[0].strip().lower()
    if not primary.isalpha() or primary in _UNDETERMINED:
        return None
    if len(primary) == 2:
        return _ALIASES.get(primary, primary)
    return _from_iso639_3_or_name(primary)


@lru_cache(maxsize=512)
def _from_iso639_3_or_name(word: str) -> str | None:
    import pycountry

    found = None
    if len(word) == 3:
        found = pycountry.languages.get(alpha_3=word) or pycountry.languages.get(bibliographic=word)
    if found is None and len(word) > 3:
        try:
            found = pycountry.languages.lookup(word)
        except LookupError:
            return None
    if found is None:
        return None
    code = str(getattr(found, "alpha_2", None) or found.alpha_3)
    return _ALIASES.get(code, code)


def detect_language(text: str) -> LanguageGuess:
    """The language of `text` from its first SAMPLE_CHARS characters; (None, 0.0) when there is too little."""
    sample = text[:SAMPLE_CHARS]
    if len(sample) < 4 * MIN_CHARS and sum(1 for c in sample if c.isalpha()) < MIN_CHARS:
        return LanguageGuess(None, 0.0)
    label, confidence = _identifier().classify(sample)
    if confidence < SURE and len(text) > SAMPLE_CHARS:
        label, confidence = _identifier().classify(text[:LONG_SAMPLE_CHARS])
    return LanguageGuess(normalise_language(label), round(float(confidence), 4))


def identify_language(article: Article, guess: LanguageGuess | None = None) -> Article:
    """`article` with its language from the text (`guess`, else detected), the declaration kept in provenance."""
    guess = guess if guess is not None else detect_language(article.text)
    declared_tag = article.language
    declared = normalise_language(declared_tag)
    declared_by = dict(article.provenance).get("language", "page")
    provenance = [(f, s) for f, s in article.provenance if f != "language"]
    language, source = guess.language, "text"
    if declared is not None and (language is None or guess.confidence < MIN_CONFIDENCE):
        language, source = declared, "declared"
    if language is not None:
        provenance.append(("language", source))
    if declared_tag:
        provenance.append(("declared_language", f"{declared_by}:{declared_tag}"))
    if declared is not None and guess.language is not None and declared != guess.language:
        provenance.append(("language_disagreement", f"declared {declared}, text {guess.language}"))
    confidence = guess.confidence if language is not None and language == guess.language else None
    return replace(article, language=language, language_confidence=confidence, provenance=tuple(provenance))


def split_by_language(articles: Sequence[Article], wanted: Mapping[str, Sequence[str]]
                      ) -> tuple[list[Article], list[Article]]:
    """The articles a source's `languages` filter keeps, and those it leaves out.

    `wanted` maps a document's uri to its source's languages (ISO 639-1 codes); a document
    not in it keeps any language. An article whose language is undetermined is left out
    wherever a filter applies: a filter says which languages are wanted, and that one is not known.
    """
    kept: list[Article] = []
    left: list[Article] = []
    for article in articles:
        languages = wanted.get(article.uri)
        (kept if not languages or article.language in languages else left).append(article)
    return kept, left
