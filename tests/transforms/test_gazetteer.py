"""Countries, demonyms and organisations."""

from __future__ import annotations

from transforms.gazetteer import (
    gazetteer_patterns,
    to_country,
    to_country_name,
    to_demonym_country,
    to_organisation,
)


def test_country_short_forms_resolve_to_one_country() -> None:
    for form in ("US", "U.S.", "USA", "America", "the United States", "United States of America"):
        assert to_country_name(form) == "United States", form
    assert to_country_name("Russian Federation") == "Russia"
    assert to_country_name("Britain") == "United Kingdom"
    assert to_country_name("Côte d’Ivoire") == "Ivory Coast"
    assert to_country_name("Germany") == "Germany"
    assert to_country_name("Berlin") is None


def test_demonyms_link_to_their_country_but_are_not_countries() -> None:
    assert to_demonym_country("Russian") == "Russia"
    assert to_demonym_country("Russians") == "Russia"
    assert to_demonym_country("Chinese") == "China"
    assert to_country_name("Chinese") is None
    assert to_country("Ukrainian") == "Ukraine"
    assert to_country("Martian") is None


def test_organisations_map_acronyms_to_expansions() -> None:
    assert to_organisation("UN") == "United Nations"
    assert to_organisation("U.N.") == "United Nations"
    assert to_organisation("EU") == "European Union"
    assert to_organisation("NATO") == to_organisation("Nato") == "North Atlantic Treaty Organization"
    assert to_organisation("Acme") is None


def test_patterns_cover_countries_demonyms_and_organisations() -> None:
    patterns = {(p["label"], p["pattern"]) for p in gazetteer_patterns()}
    assert ("GPE", "Russia") in patterns
    assert ("NORP", "Chinese") in patterns
    assert ("ORG", "European Union") in patterns
    assert not any(p == "" for _, p in patterns)


def test_religions_and_regional_demonyms() -> None:
    from transforms.gazetteer import to_religion

    assert to_religion("Moslems") == to_religion("Muslim") == to_religion("Islamic") == "Islam"
    assert to_religion("Russian") is None
    assert to_demonym_country("Zairean") == "Democratic Republic of the Congo"
    assert to_demonym_country("European") == "Europe"
    assert to_country_name("European") is None
