"""Row ids and content hashes: the first hex digits of a SHA-256.

Every id the warehouse stores is made here, from the key that identifies the row, so that
the same input gives the same id in every run (re-runs are idempotent) and on every
machine. The lengths and prefixes are part of the stored data: changing one changes every
id already written. `tests/transforms/test_ids.py` pins a few values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from transforms.names import to_name_key

# spaCy (OntoNotes) labels folded into the type part of an entity id.
_COARSE = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "PLACE", "LOC": "PLACE", "FAC": "PLACE", "NORP": "NORP"}


def to_hash_id(key: str, length: int) -> str:
    """The first `length` hex digits of the SHA-256 of `key` (UTF-8)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:length]


def to_article_id(key: str) -> str:
    """Stable article id from a canonical URL or `seed:<relative path>`."""
    return to_hash_id(key, 16)


def to_content_hash(text: str) -> str:
    """The hash of an article's text: which version of the article a row points into."""
    return to_hash_id(text, 32)


def to_raw_hash(body: bytes) -> str:
    """The hash of a document's raw bytes (sha256, hex): the raw store's key and the skip-if-unchanged test."""
    return hashlib.sha256(body).hexdigest()


def to_coarse_type(label: str) -> str:
    """PERSON, ORG, PLACE (GPE/LOC/FAC), NORP or MISC: the type part of an entity id."""
    return _COARSE.get(label, "MISC")


def to_entity_id(name: str, type_: str) -> str:
    """Stable id from the canonical name (case, diacritics, suffixes folded) and coarse type."""
    return to_hash_id(f"{to_coarse_type(type_)}:{to_name_key(name)}", 16)


def to_story_id(article_ids: Iterable[str]) -> str:
    """A story's id, from the smallest of its article ids."""
    return "s" + to_hash_id(min(article_ids), 15)


def to_warc_fetch_id(warc_uri: str) -> str:
    """A WARC record's fetch id: stable, so re-reading the same record gives the same rows."""
    return "warc-" + to_hash_id(warc_uri, 27)


def to_attempt_id(url: str, attempt: int, nonce: str) -> str:
    """An HTTP fetch attempt's id; the caller's `nonce` (a clock and a random draw) makes each attempt new."""
    return to_hash_id(f"{url}\n{attempt}\n{nonce}", 32)


def to_reject_id(uri: str, stage: str, reason: str, article_id: str | None, fetch_id: str | None) -> str:
    """A reject's id: the same input rejected for the same reason in a re-run is the same row."""
    return to_hash_id(json.dumps([uri, stage, reason, article_id, fetch_id]), 16)
