"""Entities of a batch of articles: mentions found (`transforms.mentions`), then resolved to
canonical entities (`transforms.resolution`), with stable ids (`transforms.ids`).

`prepare_pipeline` adds what mention finding needs to a spaCy pipeline: the gazetteer
(countries, demonyms, organisations) and true-casing of all-caps headlines. Full person
names anywhere in the batch count as known when resolving each article's short forms.
"""

from __future__ import annotations

from collections.abc import Sequence

from spacy.language import Language
from spacy.tokens import Doc

from transforms.gazetteer import gazetteer_patterns
from transforms.ids import to_entity_id
from transforms.mentions import MentionSpan, find_mentions
from transforms.models import Article, Entity, Mention
from transforms.names import is_full_name, normalise_person_name
from transforms.resolution import KnownIndex, resolve_mentions

# Short all-caps words that the gazetteer must not tag in an all-caps headline.
_RULER_SKIP = frozenset({"WHO", "AU", "EC", "Fed", "GB", "CIS", "Lao", "Pole", "Turk", "Scot", "Finn", "Dane"})


def prepare_pipeline(nlp: Language, truecase: bool = True, gazetteer: bool = True) -> Language:
    """Add the gazetteer (countries, demonyms, organisations) and headline true-casing.

    Idempotent: calling it twice adds nothing more. Returns `nlp` itself.
    """
    if gazetteer and "newsdesk_gazetteer" not in nlp.pipe_names and "ner" in nlp.pipe_names:
        ruler = nlp.add_pipe("entity_ruler", name="newsdesk_gazetteer", after="ner",
                             config={"overwrite_ents": False, "phrase_matcher_attr": "ORTH"})
        patterns = [p for p in gazetteer_patterns() if p["pattern"] not in _RULER_SKIP]
        ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    if truecase and "newsdesk_truecase" not in nlp.pipe_names and "ner" in nlp.pipe_names:
        nlp.add_pipe("newsdesk_truecase", last=True)
    return nlp


def extract_entities(
    docs: Sequence[Doc], articles: Sequence[Article], known: Sequence[Entity] = ()
) -> tuple[list[Mention], list[Entity]]:
    """Resolved mentions of every article and the distinct entities they refer to."""
    if len(docs) != len(articles):
        raise ValueError(f"{len(docs)} docs for {len(articles)} articles: pass one doc per article")
    found = [find_mentions(doc) for doc in docs]
    index = KnownIndex(known)
    # Full names anywhere in the batch count as known, as if already in the warehouse.
    index.add(_batch_persons(found, articles), count=True)
    mentions: list[Mention] = []
    entities: dict[str, Entity] = {}
    for spans, article in zip(found, articles):
        resolved = resolve_mentions(article.text, spans, index)
        for item in resolved:
            entity_id = to_entity_id(item.canonical, item.label)
            mentions.append(Mention(article.article_id, item.span.start, item.span.end,
                                    article.text[item.span.start:item.span.end], item.span.label,
                                    item.canonical, entity_id, item.method))
            entities.setdefault(entity_id, Entity(entity_id, item.canonical, item.label))
    return mentions, list(entities.values())


def _batch_persons(found: Sequence[Sequence[MentionSpan]], articles: Sequence[Article]) -> list[Entity]:
    """Multi-word person names of the batch, once per article that names them."""
    persons: list[Entity] = []
    for spans, article in zip(found, articles):
        seen: set[str] = set()
        for span in spans:
            if span.label == "PERSON":
                name = normalise_person_name(article.text[span.start:span.end])
                if is_full_name(name) and not name.isupper():
                    entity_id = to_entity_id(name, "PERSON")
                    if entity_id not in seen:
                        seen.add(entity_id)
                        persons.append(Entity(entity_id, name, "PERSON"))
    return persons
