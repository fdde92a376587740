"""Entity labels of the non-English spaCy pipelines, mapped to ours.

Our entity types are the English pipeline's (OntoNotes): PERSON, ORG, GPE, LOC, ...
The official pipelines of most other languages are trained on WikiNER and tag
PER, ORG, LOC and MISC. `prepare_language_pipeline` adds a component after the
recogniser that relabels their entities: PER -> PERSON, ORG -> ORG, LOC -> LOC
(a country among them becomes GPE when mentions are resolved, as in English),
and drops MISC, which mixes demonyms, events and works and has no one type of
ours. The English pipeline gets the gazetteer and headline true-casing instead
(`transforms.entities.prepare_pipeline`); those are English word lists, never
run on other languages.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span

from transforms.entities import prepare_pipeline

# WikiNER (and a few other schemes) -> ours; a label missing here is dropped.
LABEL_MAP: dict[str, str] = {
    "PER": "PERSON", "PERSON": "PERSON", "PERS": "PERSON",
    "ORG": "ORG", "ORGANIZATION": "ORG",
    "LOC": "LOC", "GPE": "GPE", "FAC": "FAC",
    "NORP": "NORP", "EVENT": "EVENT",
}


@Language.component("newsdesk_labels")
def map_labels(doc: Doc) -> Doc:
    """Relabel the doc's entities to our types; entities with no type of ours are dropped."""
    doc.ents = [Span(doc, e.start, e.end, label=LABEL_MAP[e.label_]) for e in doc.ents if e.label_ in LABEL_MAP]
    return doc


def prepare_language_pipeline(nlp: Language) -> Language:
    """An English pipeline as `prepare_pipeline` makes it; any other gets its labels mapped. Idempotent."""
    if nlp.lang == "en":
        return prepare_pipeline(nlp)
    if "newsdesk_labels" not in nlp.pipe_names and "ner" in nlp.pipe_names:
        nlp.add_pipe("newsdesk_labels", after="ner")
    return nlp
