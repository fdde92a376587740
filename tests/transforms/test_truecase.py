"""Headline true-casing: entities of all-caps headlines, and the spaCy component's registration."""

from __future__ import annotations

import pytest
import spacy
from spacy.language import Language

from transforms.entities import prepare_pipeline
from transforms.mentions import find_mentions
from transforms.truecase import HeadlineTruecaser, is_caps_word

HEADLINE = "MERKEL MEETS MACRON IN PARIS"
TEXT = f"{HEADLINE}\n\nAngela Merkel met Emmanuel Macron in Paris on Monday to discuss trade."


@pytest.fixture(scope="module")
def prepared(nlp: Language) -> Language:
    """A prepared copy of the session pipeline (the shared one is left as it is)."""
    return prepare_pipeline(spacy.load(nlp.path))


def _headline_labels(nlp: Language) -> dict[str, str]:
    mentions = find_mentions(nlp(TEXT))
    return {TEXT[m.start:m.end]: m.label for m in mentions if m.end <= len(HEADLINE)}


def test_all_caps_headline_is_true_cased(prepared: Language) -> None:
    headline = _headline_labels(prepared)
    assert headline.get("MERKEL") == "PERSON" and headline.get("MACRON") == "PERSON"
    assert headline.get("PARIS") == "GPE"


def test_mixed_case_text_is_left_alone(prepared: Language) -> None:
    text = "Angela Merkel met Emmanuel Macron in Paris on Monday to discuss trade."
    plain = spacy.load(prepared.path)(text)
    assert [(e.text, e.label_) for e in prepared(text).ents if e.label_ == "PERSON"] == [
        (e.text, e.label_) for e in plain.ents if e.label_ == "PERSON"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [("MERKEL", True), ("Merkel", False), ("A", False), ("G7", False), ("U.S.", False), ("IN", True)],
)
def test_is_caps_word(word: str, expected: bool) -> None:
    assert is_caps_word(word) is expected


def test_component_name_is_stable_and_added_once(prepared: Language) -> None:
    assert "newsdesk_truecase" in Language.factories  # prepared pipelines' configs name this factory
    assert prepared.pipe_names[-1] == "newsdesk_truecase"
    assert isinstance(prepared.get_pipe("newsdesk_truecase"), HeadlineTruecaser)
    before = list(prepared.pipe_names)
    assert prepare_pipeline(prepared).pipe_names == before


@pytest.fixture(scope="module")
def reloaded(prepared: Language, tmp_path_factory: pytest.TempPathFactory) -> Language:
    path = tmp_path_factory.mktemp("pipeline") / "prepared"
    prepared.to_disk(path)
    return spacy.load(path)


def test_saved_pipeline_loads_with_the_component(reloaded: Language) -> None:
    assert isinstance(reloaded.get_pipe("newsdesk_truecase"), HeadlineTruecaser)
    assert _headline_labels(reloaded).get("PARIS") == "GPE"


def test_saved_pipeline_tags_headlines_as_the_prepared_one(prepared: Language, reloaded: Language) -> None:
    assert _headline_labels(reloaded) == _headline_labels(prepared)
