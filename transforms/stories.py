"""Duplicate kinds and story clusters: the rules, as pure functions over values the warehouse hands in.

A *duplicate* is a pair of article versions whose bodies' estimated Jaccard
similarity (MinHash, transforms/fingerprints.py) is at least DUPLICATE_MIN, or
two versions of one article. Its kind:
  - `updated`: the same article id (a page that changed; any similarity);
  - `same_page`: different article ids on the same site (host of the canonical
    URL or URL, else the site name), or the same canonical URL: one page under
    several addresses;
  - `syndicated`: different sites (or a site unknown on either side): wire copy.

A *story* groups the articles of many outlets about one event. An article
joins a story on one of two kinds of evidence:
  - `duplicate`: a duplicate pair with an article of that story;
  - `related`: looser evidence, all three at once: titles sharing at least
    TITLE_MIN of their content words (Jaccard), at least SHARED_ENTITIES_MIN of
    each article's TOP_ENTITIES most-mentioned entities in common, and
    publication times at most WINDOW_HOURS apart.
New articles linked to each other form one group (connected components). A
group linked to existing stories joins the one with the strongest evidence
(duplicate before related, then the higher similarity, then the smaller id);
existing stories are never merged or renamed, so a story id is stable across
runs. A group linked to none starts a story whose id derives from its
smallest article id (a re-run gives the same id).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from transforms.ids import to_story_id

DUPLICATE_MIN = 0.4
TITLE_MIN = 0.3
SHARED_ENTITIES_MIN = 2
TOP_ENTITIES = 5
WINDOW_HOURS = 48.0
_WORD = re.compile(r"\w+", re.UNICODE)
# Words that say nothing about the event; titles are compared on the rest.
_STOP = frozenset("""a an the and or but of in on at to for from by with as is are was were be been has have had it its
this that these those after before over under into about new says say said will would could can not no than up out
de la le les des du et en un une el los las y del der die das und von zu""".split())


@dataclass(frozen=True)
class Edge:
    """Evidence that two articles belong to one story."""

    article_id: str
    other_article_id: str
    evidence: str  # "duplicate" | "related"
    score: float  # Jaccard of bodies, or of titles


def to_site(url: str | None, canonical_url: str | None, site_name: str | None) -> str | None:
    """The outlet an article version came from: its canonical URL's host, its URL's, or its site name."""
    for address in (canonical_url, url):
        if address:
            host = (urlsplit(address).hostname or "").removeprefix("www.")
            if host:
                return host
    return site_name.strip().casefold() if site_name and site_name.strip() else None


def to_kind(same_article: bool, site: str | None, other_site: str | None,
            canonical_url: str | None = None, other_canonical_url: str | None = None) -> str:
    if same_article:
        return "updated"
    if canonical_url and canonical_url == other_canonical_url:
        return "same_page"
    if site is not None and site == other_site:
        return "same_page"
    return "syndicated"


def to_title_words(title: str | None) -> set[str]:
    words = _WORD.findall(unicodedata.normalize("NFKC", title or "").casefold())
    return {w for w in words if w not in _STOP and len(w) > 1}


def title_similarity(title: str | None, other: str | None) -> float:
    a, b = to_title_words(title), to_title_words(other)
    return len(a & b) / len(a | b) if a and b else 0.0


def is_related(title_score: float, shared_entities: int, hours_apart: float) -> bool:
    return title_score >= TITLE_MIN and shared_entities >= SHARED_ENTITIES_MIN and hours_apart <= WINDOW_HOURS


def _find(parent: dict[str, str], x: str) -> str:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def assign_stories(new: Iterable[str], stories: Mapping[str, str], edges: Iterable[Edge]) -> dict[str, tuple[str, str]]:
    """article id -> (story id, joined_by) for every new article (those not in `stories`).

    `stories` maps the articles that already have a story to it; `edges` is the
    evidence touching the new articles (in either direction).
    """
    edges = list(edges)
    fresh = sorted(set(new) - set(stories))
    parent = {a: a for a in fresh}
    links: list[Edge] = []
    for edge in edges:
        a, b = edge.article_id, edge.other_article_id
        if a in parent and b in parent:
            parent[_find(parent, a)] = _find(parent, b)
        elif a in parent and b in stories or b in parent and a in stories:
            links.append(edge)
    groups: dict[str, list[str]] = {}
    for a in fresh:
        groups.setdefault(_find(parent, a), []).append(a)
    strength = {"duplicate": 1, "related": 0}
    best: dict[str, tuple[int, float, str, str]] = {}  # group root -> (evidence rank, score, -, story id)
    for edge in links:
        mine, theirs = (edge.article_id, edge.other_article_id) if edge.article_id in parent else \
            (edge.other_article_id, edge.article_id)
        root, story = _find(parent, mine), stories[theirs]
        rank = (strength[edge.evidence], edge.score)
        held = best.get(root)
        if held is None or rank > held[:2] or rank == held[:2] and story < held[3]:
            best[root] = (rank[0], rank[1], edge.evidence, story)
    assigned: dict[str, tuple[str, str]] = {}
    for root, members in groups.items():
        if root in best:
            _, _, evidence, story = best[root]
            for a in members:
                assigned[a] = (story, evidence)
            continue
        story = to_story_id(members)
        first = min(members)
        for a in members:
            assigned[a] = (story, "first" if a == first else _joined_by(a, members, edges))
    return assigned


def _joined_by(article_id: str, members: list[str], edges: list[Edge]) -> str:
    kinds = {e.evidence for e in edges if article_id in (e.article_id, e.other_article_id)}
    return "duplicate" if "duplicate" in kinds else "related"
