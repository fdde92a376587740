"""The cue-lexicon derivation: rate and count thresholds."""

from __future__ import annotations

from collections import Counter

from evaluation.train_quotes import derive_lexicon


def test_lexicon_keeps_frequent_reliable_cues_only() -> None:
    hits = Counter({"say": 90, "show": 6, "make": 10, "vow": 2})
    uses = Counter({"say": 100, "show": 10, "make": 100, "vow": 2})
    assert derive_lexicon(hits, uses, min_rate=0.4, min_count=3) == ["say", "show"]
    assert derive_lexicon(hits, uses, min_rate=0.4, min_count=1) == ["say", "show", "vow"]
