"""Ids are stored data: the same key gives the same id, byte for byte, in every version."""

from __future__ import annotations

import json

import pytest

from transforms.ids import (
    to_article_id,
    to_attempt_id,
    to_content_hash,
    to_entity_id,
    to_hash_id,
    to_reject_id,
    to_story_id,
    to_warc_fetch_id,
)


@pytest.mark.parametrize(("made", "pinned"), [
    (to_article_id("seed:city/bridge.txt"), "05832cf2af99fde6"),
    (to_article_id("https://www.bbc.co.uk/news/world-1"), "0df88406365b61bf"),
    (to_content_hash("Zürich — the bridge."), "b6e60715f05c896f9fa5814dc11421fd"),
    (to_entity_id("Vladimir Putin", "PERSON"), "e06ea338ab17e2aa"),
    (to_entity_id("Zürich", "GPE"), "dbaab01136735fa2"),
    (to_entity_id("World Health Organization", "ORG"), "f3335ba97d7d5ac9"),
    (to_story_id(["b2", "a1", "c3"]), "sf55ff16f66f4336"),
    (to_warc_fetch_id("warc:archive/cc.warc.gz#1234"), "warc-ebdb823cd64ff5792425b857d2d"),
    (to_reject_id("https://example.com/a", "fetch", "http_404", None, "f1"), "a83be11e10ac7ac2"),
])
def test_ids_are_pinned(made: str, pinned: str) -> None:
    assert made == pinned


def test_ids_have_their_stored_lengths() -> None:
    assert len(to_article_id("x")) == 16 and len(to_content_hash("x")) == 32
    assert len(to_story_id(["x"])) == 16 and len(to_warc_fetch_id("x")) == 32
    assert to_attempt_id("https://a.example/", 1, "n") == to_hash_id("https://a.example/\n1\nn", 32)
    assert to_attempt_id("https://a.example/", 1, "n") != to_attempt_id("https://a.example/", 2, "n")


def test_entity_ids_fold_case_diacritics_suffixes_and_fine_types() -> None:
    assert to_entity_id("Zürich", "GPE") == to_entity_id("ZURICH", "LOC")
    assert to_entity_id("Acme Inc.", "ORG") == to_entity_id("Acme", "ORG")
    assert to_entity_id("Jordan", "PERSON") != to_entity_id("Jordan", "GPE")


def test_reject_id_keys_on_every_field() -> None:
    made = to_reject_id("https://example.com/a", "fetch", "http_404", None, "f1")
    assert made == to_hash_id(json.dumps(["https://example.com/a", "fetch", "http_404", None, "f1"]), 16)
    others = {to_reject_id("https://example.com/b", "fetch", "http_404", None, "f1"),
              to_reject_id("https://example.com/a", "read", "http_404", None, "f1"),
              to_reject_id("https://example.com/a", "fetch", "http_410", None, "f1"),
              to_reject_id("https://example.com/a", "fetch", "http_404", "a1", "f1"),
              to_reject_id("https://example.com/a", "fetch", "http_404", None, None)}
    assert len(others) == 5 and made not in others
