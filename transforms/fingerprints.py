"""Text fingerprints: MinHash over word shingles of an article's normalised body, with LSH band keys.

Two copies of a wire story differ in their headline, template, trimmed endings
and inserted boilerplate, never in most of their body: the fingerprint covers
the body only (the headline block is left out), after normalising case,
punctuation, typography and whitespace, as overlapping 5-word shingles. The
MinHash signature (rensa's RMinHash, Rust) estimates the Jaccard similarity of
two bodies' shingle sets; its 120 values are cut into 40 bands of 3 values, and
two articles that agree on a whole band are candidates (the LSH S-curve
1 - (1 - J^3)^40: a pair at Jaccard 0.4 is a candidate with probability 0.93, at
0.5 with 0.995, at 0.05 with 0.005, at 0.01 with 0.00004, so unrelated articles
almost never meet). Band keys are plain integers, so the warehouse can store and join them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rensa import RMinHash

from transforms.models import Article

SHINGLE_WORDS = 5
NUM_PERM = 120
BANDS = 40
ROWS = NUM_PERM // BANDS
SEED = 16  # fixed: signatures computed in different runs must be comparable
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Fingerprint:
    article_id: str
    content_hash: str
    signature: tuple[int, ...]  # NUM_PERM MinHash values
    bands: tuple[int, ...]  # BANDS LSH keys (signed 64-bit)
    shingles: int  # distinct shingles in the body (0: too short to compare)


def to_words(text: str) -> list[str]:
    """The body's words: NFKC, case-folded, punctuation and spacing gone (so typography never differs)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def to_shingles(words: Sequence[str], size: int = SHINGLE_WORDS) -> set[str]:
    """Overlapping runs of `size` words; a text shorter than that is one shingle."""
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def body_text(article: Article) -> str:
    """The article's text without its headline block (the headline is what syndication rewrites)."""
    cut = [(b.start, b.end) for b in article.blocks if b.kind == "headline"]
    if not cut:
        return article.text
    parts, at = [], 0
    for start, end in sorted(cut):
        parts.append(article.text[at:start])
        at = max(at, end)
    parts.append(article.text[at:])
    return " ".join(parts)


def to_signature(shingles: set[str]) -> tuple[int, ...]:
    sketch = RMinHash(NUM_PERM, SEED)
    sketch.update(sorted(shingles))
    return tuple(int(v) for v in sketch.digest())


def to_bands(signature: Sequence[int]) -> tuple[int, ...]:
    """One key per band: a 64-bit hash of the band's position and values (signed, to fit a BIGINT)."""
    keys = []
    for band in range(BANDS):
        values = signature[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(f"{band}:{','.join(map(str, values))}".encode(), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return tuple(keys)


def to_fingerprint(article: Article) -> Fingerprint:
    shingles = to_shingles(to_words(body_text(article)))
    signature = to_signature(shingles)
    return Fingerprint(article.article_id, article.content_hash, signature, to_bands(signature), len(shingles))


def to_fingerprints(articles: Sequence[Article]) -> list[Fingerprint]:
    return [to_fingerprint(a) for a in articles]


def estimate_jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """The share of signature positions on which two MinHash signatures agree."""
    if not a or len(a) != len(b):
        return 0.0
    return sum(1 for x, y in zip(a, b) if x == y) / len(a)
