"""Name normalisation: canonical spellings, and properties that hold for any string."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.names import normalise_name, normalise_person_name, to_name_key


def test_normalise_name_fixes_spacing_possessives_and_articles() -> None:
    assert normalise_name("the University of St.Gallen") == "University of St. Gallen"
    assert normalise_name("China’s") == "China"
    assert normalise_name("Reuters'") == "Reuters"
    assert normalise_name("  Joe \u00a0 Biden ") == "Joe Biden"
    assert normalise_name("The Hague") == "The Hague"


def test_normalise_person_name_drops_titles_and_roles() -> None:
    assert normalise_person_name("President Vladimir Putin") == "Vladimir Putin"
    assert normalise_person_name("Mr. Schmid") == "Schmid"
    assert normalise_person_name("Prime Minister Rishi Sunak’s") == "Rishi Sunak"
    assert normalise_person_name("General") == "General"  # a title alone stays


def test_name_key_folds_case_diacritics_and_corporate_suffixes() -> None:
    assert to_name_key("Zürich") == to_name_key("ZURICH") == "zurich"
    assert to_name_key("Acme Inc.") == to_name_key("ACME") == "acme"
    assert to_name_key("Siemens AG") == "siemens"
    assert to_name_key("Banco Santander, S.A.") != to_name_key("Banco")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalisers_are_idempotent_and_never_raise(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once
    person = normalise_person_name(text)
    assert normalise_person_name(person) == person
    key = to_name_key(text)
    assert to_name_key(key) == key


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["the", "The", "Mr.", "President", "St.Gallen", "’s", "'s", "Zürich", "Inc.",
                                 " ", "\u00a0", "“", "”", "(", ")", "-", "Xi", "Jinping", "U.S.", "."]), max_size=8))
def test_normalisers_are_idempotent_on_name_like_strings(parts: list[str]) -> None:
    text = " ".join(parts)
    assert normalise_name(normalise_name(text)) == normalise_name(text)
    assert normalise_person_name(normalise_person_name(text)) == normalise_person_name(text)
    assert to_name_key(to_name_key(text)) == to_name_key(text)
