"""Records that cross a stage boundary.

Every stage takes and returns these frozen dataclasses; no bare dicts travel
between stages. Offsets (`start`, `end`) are character offsets into
`Article.text`, end-exclusive, so `article.text[start:end]` is the span.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime

# The ids live in transforms.ids; these two are imported from here by many callers.
from transforms.errors import Reason, Stage
from transforms.ids import to_article_id as to_article_id, to_content_hash as to_content_hash, to_raw_hash


@dataclass(frozen=True)
class Document:
    """Raw input before extraction: a seed file's bytes or a fetched body."""

    uri: str  # seed path relative to the seeds folder, or the URL
    source: str  # "seed", "url", "feed", "sitemap"
    body: bytes
    media_type: str  # "text/plain", "text/markdown", "text/html"
    charset: str | None = None  # declared by HTTP header, if any
    url: str | None = None  # final URL after redirects (fetched documents)
    fetch_id: str | None = None
    fetched_at: datetime | None = None  # when it was fetched (aware, UTC)
    raw_hash: str = ""  # sha256 of `body` (hex): the raw store's key; computed here once when not given

    def __post_init__(self) -> None:
        if not self.raw_hash:
            object.__setattr__(self, "raw_hash", to_raw_hash(self.body))


@dataclass(frozen=True)
class Block:
    """A structural piece of an article's text: headline, paragraph, ..."""

    kind: str  # "headline", "standfirst", "key_point", "subheading", "paragraph"
    start: int
    end: int


@dataclass(frozen=True)
class Article:
    article_id: str  # stable per canonical URL or seed path
    content_hash: str  # sha256 of `text`
    uri: str
    source: str
    text: str  # clean text, blocks separated by blank lines
    title: str | None = None
    standfirst: str | None = None
    authors: tuple[str, ...] = ()
    published_at: str | None = None  # ISO 8601 as given (time zone kept)
    modified_at: str | None = None
    site_name: str | None = None
    language: str | None = None
    section: str | None = None
    url: str | None = None
    canonical_url: str | None = None
    blocks: tuple[Block, ...] = ()
    provenance: tuple[tuple[str, str], ...] = ()  # (field, "json_ld"|"meta"|"html"|"url"|"text"|"trafilatura")
    fetch_id: str | None = None
    language_confidence: float | None = None  # the language identifier's probability (transforms/language.py)
    nlp_status: str | None = None  # "ok", "unsupported_language", ... (set by the NLP stage)


@dataclass(frozen=True)
class Mention:
    """A named-entity mention, resolved to a canonical entity within its article."""

    article_id: str
    start: int
    end: int
    text: str  # the surface form exactly as written (== article.text[start:end])
    label: str  # spaCy label: PERSON, ORG, GPE, LOC, NORP, ...
    canonical: str  # canonical name after within-article resolution
    entity_id: str
    method: str = "ner"  # how the canonical name was chosen


@dataclass(frozen=True)
class Entity:
    entity_id: str
    name: str  # canonical name
    type: str  # PERSON, ORG, GPE, LOC, NORP, EVENT, ...


@dataclass(frozen=True)
class Quote:
    article_id: str
    start: int  # content span
    end: int
    text: str
    kind: str  # "direct", "partial", "mixed", "indirect"
    cue: str | None = None
    cue_lemma: str | None = None
    cue_start: int | None = None
    cue_end: int | None = None
    speaker: str | None = None  # speaker span text, as written ("he", "Schmid")
    speaker_start: int | None = None
    speaker_end: int | None = None
    speaker_entity_id: str | None = None
    confidence: float = 1.0
    method: str = "rule"  # attribution method: "cue_in_sentence", "carry_over", ...

    @property
    def quote_id(self) -> str:
        return f"{self.article_id}:{self.start}-{self.end}"


@dataclass(frozen=True)
class Reject:
    """Input that could not be processed, with a reason a user can act on."""

    uri: str
    stage: Stage  # "read", "fetch", "extract", "entities", "quotes", "load": transforms/errors.py lists them
    reason: Reason  # short reason code: "empty", "binary", "no_article_text", ...: transforms/errors.py lists them
    message: str
    article_id: str | None = None
    fetch_id: str | None = None


@dataclass(frozen=True)
class Extracted:
    """What an extractor returns: an article, or the reason there is none."""

    article: Article | None = None
    reject: Reject | None = None


@dataclass(frozen=True)
class WorkItem:
    """A URL to fetch, and where it was discovered."""

    url: str  # normalised (no fragment, no tracking parameters)
    source_name: str
    source_kind: str  # "urls", "feed", "sitemap"
    discovered_at: datetime  # when discovery found it (UTC)
    published_at: datetime | None = None  # from the feed or sitemap entry (UTC)
    title: str | None = None  # as given by the feed entry
    # The sitemap's <lastmod>: the page has not changed since (a date alone means the end of that day).
    # None when the source gives none or is configured not to be trusted on it (trust_lastmod = false).
    modified_by: datetime | None = None


@dataclass(frozen=True)
class Validators:
    """What the last good fetch of a URL returned, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    fetched_at: datetime | None = None  # when that content was fetched (aware, UTC)


@dataclass(frozen=True)
class Fetch:
    """One HTTP fetch attempt (a row of the `fetches` table)."""

    fetch_id: str
    url: str  # the requested URL
    final_url: str | None
    status: int | None
    bytes: int  # body bytes received on the wire
    elapsed_ms: float
    content_hash: str | None  # sha256 of the raw (decoded transfer) body; key of the raw store
    content_type: str | None
    charset: str | None
    etag: str | None
    last_modified: str | None
    error_class: str | None  # None when the fetch succeeded; the codes: transforms/errors.py, Reason
    error: str | None
    attempt: int  # 1 for the first try
    fetched_at: datetime  # when the attempt started (aware, UTC)
    not_modified: bool = False  # 304 to a conditional GET
    source_name: str | None = None
    redirects: int = 0


@dataclass(frozen=True)
class Analysis:
    """What the NLP stage found in a batch: mentions, resolved entities, quotes, the articles it rejected,
    and each article's `nlp_status` ("ok", "unsupported_language", ...: flows/languages.py)."""

    mentions: list[Mention] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    nlp_status: dict[str, str] = field(default_factory=dict)

    @classmethod
    def combine(cls, parts: Iterable[Analysis]) -> Analysis:
        """The parts' findings together, in order."""
        parts = list(parts)
        return cls([m for p in parts for m in p.mentions], [e for p in parts for e in p.entities],
                   [q for p in parts for q in p.quotes], [r for p in parts for r in p.rejects],
                   {k: v for p in parts for k, v in p.nlp_status.items()})


@dataclass(frozen=True)
class RawInput:
    """A body in the raw store to extract again (`--reextract`): the newest good fetch of a URL."""

    url: str
    final_url: str | None
    content_hash: str
    content_type: str | None
    charset: str | None
    fetch_id: str
    source: str = "url"  # the source kind its article came from


@dataclass(frozen=True)
class RecentRun:
    """One of the last runs, for a report's trend: articles, rejects and duration (None while unfinished)."""

    run_id: str
    started_at: str  # "2024-11-29 07:00", UTC
    articles: int
    rejected: int
    seconds: float | None


@dataclass(frozen=True)
class RunSummary:
    """What a finished run did: the CLI prints it, the Prefect artifacts show it, the final state carries it."""

    run_id: str
    counts: dict[str, int]  # per stage: documents, unchanged, articles, rejected, fetches, filtered, ...
    added: dict[str, int]  # rows added per table
    totals: dict[str, int]  # rows per table in the warehouse now
    checks: dict[str, int]  # data check -> offending rows (0: passed)
    rejects_by_reason: dict[str, int]  # "stage:reason" -> count, most first
    rejects: list[Reject]
    failures_by_host: dict[str, int]
    top_entities: list[tuple[str, int]]
    entities_total: int
    top_speakers: list[tuple[str, int]]
    unresolved_speakers: list[tuple[str, int]]
    timings: dict[str, float]  # seconds per stage
    trend: list[RecentRun]


@dataclass(frozen=True)
class RunRecord:
    """A run's row in the `runs` table: what it was asked and what it did (JSON texts), and its state."""

    run_id: str
    started_at: datetime
    flow_run_id: str | None = None
    status: str = "completed"  # "running" while a DuckLake or WARC run commits batch by batch
    counts: str | None = None  # JSON: per stage
    rejects_by_reason: str | None = None  # JSON
    versions: str | None = None  # JSON: newsdesk, trafilatura, spaCy, the model
    settings: str | None = None  # JSON: what the run was asked to do
    checks: str | None = None  # JSON: the data checks after the load
    finished_at: datetime | None = None

    def row(self) -> dict[str, object]:
        """The record as a row keyed by column, for the `runs` table."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

