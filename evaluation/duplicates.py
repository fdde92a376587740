"""Score near-duplicate detection and story clusters on a labelled set built from real article texts.

The labelled set is constructed at run time from the real texts in ../shared/data
(nothing is copied into the repository), reproducibly (a fixed random seed):

- *originals*: ORIGINALS articles of at least 8 paragraphs and 250 words, drawn
  from polnear (dev + train, one per doc_id), the article-extraction benchmark's
  gold bodies, fundus-multilingual's gold bodies and news-fair.
- *copies*: each original is republished by COPIES other outlets, each with one
  documented edit (EDITS): a new headline; the last paragraphs trimmed; boilerplate
  and related links inserted; another page template (the copy goes through the real
  HTML extraction); small copy edits (house style, numbers, a dropped sentence); a
  translated headline; and all of trimming, boilerplate and copy edits at once.
- *unrelated*: every other distinct real text of those collections (the rest of
  the original pool), which must match nothing.

Everything goes through the real storage path: the records are written to a
Parquet lake and loaded into a temporary DuckDB warehouse with `load_run`
(originals and unrelated texts in a first run, copies in a second, so matching
runs against stored fingerprints). Scores: pairwise precision and recall of the
`duplicates` table (each pair of articles of one gold group is a positive; the
`updated` kind is not involved), the same over duplicate groups (connected
components), and B-cubed precision/recall/F1 of `stories` against the gold groups.
A separate figure, `real_false_pairs`, is the number of duplicate pairs among the
distinct real texts alone (every one is false, since the texts are distinct pages).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import json
import random
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from transforms.fingerprints import to_words
from transforms.models import Analysis, Article, Block, Document, RunRecord, to_article_id, to_content_hash

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
ORIGINALS = 150
SEED = 16
MIN_PARAGRAPHS, MIN_WORDS = 8, 250
AT = datetime(2025, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Text:
    key: str  # collection:doc id
    title: str
    paragraphs: tuple[str, ...]
    language: str = "en"


# --- the real texts ---------------------------------------------------------------------------

def _split(body: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in re.split(r"\n\s*\n|\n", body) if p.strip())


def read_texts(data: Path = DATA) -> list[Text]:
    """Every distinct real article text of the collections (distinct by normalised body)."""
    texts: list[Text] = []
    for name in ("dev.jsonl.gz", "train.jsonl.gz"):
        path = data / "polnear" / name
        if path.exists():
            for line in gzip.open(path, "rt", encoding="utf-8"):
                doc = json.loads(line)
                texts.append(Text(f"polnear:{doc['doc_id']}", doc.get("title") or "", _split(doc["text"])))
    truth = data / "article-extraction-benchmark" / "ground-truth.json"
    if truth.exists():
        for key, doc in json.loads(truth.read_text(encoding="utf-8")).items():
            texts.append(Text(f"aeb:{key}", doc.get("headline") or "", _split(doc.get("articleBody") or "")))
    for path in sorted((data / "fundus-multilingual" / "gold").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        texts.append(Text(f"fundus:{doc['id']}", doc.get("title") or "", _split(doc.get("body") or ""),
                          doc.get("language") or "und"))
    fair = data / "news-fair" / "dev.jsonl"
    if fair.exists():
        for line in fair.open(encoding="utf-8"):
            doc = json.loads(line)
            paragraphs = _split(doc["text"])
            texts.append(Text(f"news-fair:{doc['doc_id']}", paragraphs[0] if paragraphs else "", paragraphs[1:]))
    seen: set[str] = set()
    distinct = []
    for text in texts:
        words = to_words(" ".join(text.paragraphs))
        digest = hashlib.sha256(" ".join(words).encode()).hexdigest()
        if len(words) >= 20 and digest not in seen:
            seen.add(digest)
            distinct.append(text)
    return distinct


def republished_in_data(texts: list[Text], containment: float = 0.5, common: int = 50) -> dict[str, str]:
    """Text key -> a group key for texts that the collections hold more than once (counted exactly).

    Some of the real texts are one story twice: an article in two editions of a paper,
    a live page saved at two times. Two texts sharing at least `containment` of the
    smaller one's 5-word shingles (an exact count through an inverted index, shingles in
    more than `common` texts skipped) are one gold group, so copies of either are true
    duplicates of both; the rest are the distinct pages that must match nothing.
    """
    from collections import Counter

    from transforms.fingerprints import to_shingles

    sets = [to_shingles(to_words(" ".join(t.paragraphs))) for t in texts]
    postings: dict[str, list[int]] = {}
    for i, shingles in enumerate(sets):
        for shingle in shingles:
            postings.setdefault(shingle, []).append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for ids in postings.values():
        if 1 < len(ids) <= common:
            shared.update((a, b) for n, a in enumerate(ids) for b in ids[n + 1 :])
    parent = {t.key: t.key for t in texts}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for (a, b), count in shared.items():
        if count >= containment * min(len(sets[a]), len(sets[b])):
            parent[find(texts[a].key)] = find(texts[b].key)
    return {t.key: find(t.key) for t in texts}


# --- the documented edits ---------------------------------------------------------------------

BOILERPLATE = [
    "Advertisement",
    "Sign up for our morning newsletter and get the day's top stories in your inbox.",
    "Related: {title} — what we know so far",
    "Read more: Five things to watch this week | The latest from our correspondents",
    "Follow us on Facebook, Twitter and Instagram for the latest updates.",
    "This article was originally published by a partner agency and has been edited for length.",
]
HOUSE_STYLE = [("said", "says"), ("percent", "per cent"), ("per cent", "percent"), ("Mr. ", "Mr "), ("U.S.", "US"),
               ("organization", "organisation"), ("center", "centre"), (" and ", " & "), ("—", " - "), ("\u201c", '"')]
TRANSLATED = ["Dernières nouvelles : ", "Última hora: ", "Neueste Nachrichten: ", "Ultime notizie: "]


def new_headline(text: Text, rng: random.Random) -> Text:
    words = text.title.split()
    rng.shuffle(words)
    return replace(text, title=("Breaking: " + " ".join(words[:8])).strip())


def trim_ending(text: Text, rng: random.Random) -> Text:
    keep = max(4, int(len(text.paragraphs) * rng.uniform(0.7, 0.85)))
    return replace(text, paragraphs=text.paragraphs[:keep])


def insert_boilerplate(text: Text, rng: random.Random) -> Text:
    paragraphs = list(text.paragraphs)
    for line in rng.sample(BOILERPLATE, 3):
        paragraphs.insert(rng.randrange(1, len(paragraphs)), line.format(title=text.title[:60]))
    return replace(text, paragraphs=tuple(paragraphs))


def copy_edit(text: Text, rng: random.Random) -> Text:
    paragraphs = []
    for p in text.paragraphs:
        for old, new in HOUSE_STYLE:
            p = p.replace(old, new)
        p = re.sub(r"\b(\d+)\b", lambda m: str(int(m.group(1)) + 1) if rng.random() < 0.3 else m.group(1), p)
        paragraphs.append(p)
    drop = rng.randrange(1, len(paragraphs))  # one sentence cut for length
    sentences = re.split(r"(?<=[.!?])\s+", paragraphs[drop])
    if len(sentences) > 1:
        paragraphs[drop] = " ".join(sentences[:-1])
    return replace(text, paragraphs=tuple(paragraphs))


def translate_headline(text: Text, rng: random.Random) -> Text:
    return replace(text, title=rng.choice(TRANSLATED) + text.title)


def everything(text: Text, rng: random.Random) -> Text:
    return copy_edit(insert_boilerplate(trim_ending(text, rng), rng), rng)


def other_template(text: Text, rng: random.Random) -> Text:
    """Marked for rendering in another page template (see `to_article`)."""
    return replace(new_headline(text, rng), key=text.key + "#template")


EDITS: dict[str, Callable[[Text, random.Random], Text]] = {
    "new_headline": new_headline, "trimmed": trim_ending, "boilerplate": insert_boilerplate,
    "template": other_template, "copy_edits": copy_edit, "translated_headline": translate_headline,
    "all_at_once": everything,
}
COPIES = len(EDITS)


def _page(text: Text, site: str) -> bytes:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in text.paragraphs)
    return f"""<!doctype html><html lang="{text.language}"><head><meta charset="utf-8">
<title>{html.escape(text.title)} | {site}</title><meta property="og:site_name" content="{site}">
<meta property="og:title" content="{html.escape(text.title)}"></head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<div class="layout"><main><article><h1>{html.escape(text.title)}</h1><div class="story-body">{body}</div></article></main>
<aside><h3>Most read</h3><ol><li><a href="/a">Markets close higher</a></li><li><a href="/b">Weather warning</a></li></ol></aside>
</div><footer>© {site}. All rights reserved.</footer></body></html>""".encode()


def to_article(text: Text, key: str, site: str, at: datetime) -> Article:
    """An article as the pipeline stores it: headline block, then paragraphs (or the HTML extraction's)."""
    if text.key.endswith("#template"):
        from transforms.documents import extract_documents

        [article], _ = extract_documents([Document(key, "url", _page(text, site), "text/html",
                                                   url=f"https://{site}/{key}")])
        return replace(article, published_at=at.isoformat())
    blocks, parts, offset = [], [], 0
    for kind, part in [("headline", text.title), *(("paragraph", p) for p in text.paragraphs)]:
        blocks.append(Block(kind, offset, offset + len(part)))
        parts.append(part)
        offset += len(part) + 2
    body = "\n\n".join(parts)
    url = f"https://{site}/{hashlib.sha256(key.encode()).hexdigest()[:10]}"
    return Article(to_article_id(url), to_content_hash(body), url, "url", body, title=text.title, site_name=site,
                   url=url, canonical_url=url, blocks=tuple(blocks), published_at=at.isoformat(),
                   language=text.language)


def build_set(texts: list[Text], originals: int = ORIGINALS,
              seed: int = SEED) -> tuple[list[Article], list[Article], dict[str, str], dict[str, tuple[str, str]]]:
    """(originals and unrelated articles, copies, article id -> gold group, copy id -> (edit, original id))."""
    rng = random.Random(seed)
    long = [t for t in texts if len(t.paragraphs) >= MIN_PARAGRAPHS and len(to_words(" ".join(t.paragraphs))) >= MIN_WORDS]
    chosen = {t.key for t in rng.sample(long, min(originals, len(long)))}
    base, copies, gold, edits = [], [], {}, {}
    group = republished_in_data(texts)
    for i, text in enumerate(texts):
        article = to_article(text, text.key, f"outlet{i % 97}.example", AT + timedelta(hours=i % 240))
        base.append(article)
        gold[article.article_id] = group[text.key]
        if text.key not in chosen:
            continue
        for j, (name, edit) in enumerate(EDITS.items()):
            copy = to_article(edit(text, rng), f"{text.key}/{name}", f"copy{j}-{i % 89}.example",
                              AT + timedelta(hours=i % 240 + j + 1))
            copies.append(copy)
            gold[copy.article_id] = group[text.key]
            edits[copy.article_id] = (name, article.article_id)
    return base, copies, gold, edits


# --- loading and scoring ----------------------------------------------------------------------

def load(folder: Path, runs: Iterable[list[Article]]) -> Any:
    from warehouse import arrow, lake
    from warehouse.load import connect, load_run

    fs, root = lake.lake_filesystem(str(folder / "lake"))
    con = connect(folder / "w.duckdb")
    empty = Analysis()
    for n, articles in enumerate(runs, start=1):
        run_id = f"eval-{n}"
        lake.write_part(fs, root, run_id, 1, arrow.run_tables(run_id, AT, articles, {}, empty, []))
        load_run(con, RunRecord(run_id, AT), lake.read_run(fs, root, run_id))
    return con


def _pairs(groups: dict[str, str]) -> set[frozenset[str]]:
    members: dict[str, list[str]] = {}
    for article, group in groups.items():
        members.setdefault(group, []).append(article)
    return {frozenset((a, b)) for m in members.values() for i, a in enumerate(m) for b in m[i + 1 :]}


def _components(pairs: set[frozenset[str]]) -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        a, b = sorted(pair)
        parent[find(a)] = find(b)
    return {x: find(x) for x in parent}


def _pr(predicted: set[frozenset[str]], gold: set[frozenset[str]]) -> dict[str, float]:
    hits = len(predicted & gold)
    return {"precision": round(hits / len(predicted), 4) if predicted else 1.0,
            "recall": round(hits / len(gold), 4) if gold else 1.0, "predicted": len(predicted), "gold": len(gold)}


def b_cubed(predicted: dict[str, str], gold: dict[str, str]) -> dict[str, float]:
    def by(groups: dict[str, str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for item, group in groups.items():
            out.setdefault(group, set()).add(item)
        return out

    p_members, g_members = by(predicted), by(gold)
    items = list(gold)
    precision = sum(len(p_members[predicted[i]] & g_members[gold[i]]) / len(p_members[predicted[i]]) for i in items)
    recall = sum(len(p_members[predicted[i]] & g_members[gold[i]]) / len(g_members[gold[i]]) for i in items)
    p, r = precision / len(items), recall / len(items)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def evaluate_duplicates(data: Path = DATA, originals: int = ORIGINALS) -> dict[str, Any]:
    texts = read_texts(data)
    if not texts:
        raise FileNotFoundError(f"no article texts under {data}")
    base, copies, gold, edits = build_set(texts, originals)
    with tempfile.TemporaryDirectory() as folder:
        con = load(Path(folder), [base, copies])
        try:
            rows = con.execute("SELECT article_id, other_article_id, kind FROM duplicates WHERE kind <> 'updated'"
                               ).fetchall()
            stories = dict(con.execute("SELECT article_id, story_id FROM stories").fetchall())
        finally:
            con.close()
    base_ids = {a.article_id for a in base}
    group_sizes: dict[str, int] = {}
    for a in base:
        group_sizes[gold[a.article_id]] = group_sizes.get(gold[a.article_id], 0) + 1
    predicted = {frozenset((a, b)) for a, b, _ in rows}
    gold_pairs = _pairs(gold)
    real_pairs = {p for p in predicted if p <= base_ids}
    real_false = sorted(tuple(sorted(p)) for p in real_pairs if len({gold[a] for a in p}) > 1)
    grouped = _components(predicted)
    group_pairs = _pairs(grouped)
    by_edit: dict[str, list[bool]] = {}
    for article_id, edit in edits.items():
        name, source = edit
        by_edit.setdefault(name, []).append(frozenset((article_id, source)) in predicted)
    return {
        "texts": len(texts), "originals": len({gold[a.article_id] for a in copies}), "copies": len(copies),
        "pairs": _pr(predicted, gold_pairs),
        "groups": _pr(group_pairs, gold_pairs),
        "recall_by_edit": {k: round(sum(v) / len(v), 4) for k, v in sorted(by_edit.items())},
        "stories_b_cubed": b_cubed({a: stories.get(a, a) for a in gold}, gold),
        "republished_in_data": sum(n for n in group_sizes.values() if n > 1),  # texts held twice (exact count)
        "real_pairs": len(real_pairs),  # pairs among the real texts: republications in the data, or false
        "real_false_pairs": len(real_false),
        "real_false_examples": [list(p) for p in real_false[:10]],
        "kinds": sorted({k for _, _, k in rows}),
    }


def render_duplicates(result: dict[str, Any]) -> str:
    pairs, groups, b3 = result["pairs"], result["groups"], result["stories_b_cubed"]
    lines = [
        f"duplicates on {result['originals']} originals x {result['copies'] // max(1, result['originals'])} edited copies "
        f"+ {result['texts'] - result['originals']} unrelated real texts ({result['texts']} distinct real texts)",
        f"  pairs:  precision {pairs['precision']:.4f}  recall {pairs['recall']:.4f}  "
        f"({pairs['predicted']} predicted, {pairs['gold']} gold)",
        f"  groups: precision {groups['precision']:.4f}  recall {groups['recall']:.4f}",
        "  recall against the original, by edit: " + ", ".join(f"{k} {v:.3f}" for k, v in result["recall_by_edit"].items()),
        f"  stories B-cubed: precision {b3['precision']:.4f}  recall {b3['recall']:.4f}  F1 {b3['f1']:.4f}",
        f"  pairs among the real texts: {result['real_pairs']} ({result['republished_in_data']} texts are one story "
        f"held twice, by exact shingle count), of which between distinct pages (false): "
        f"{result['real_false_pairs']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DATA)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = evaluate_duplicates(args.data)
    print(json.dumps(result, indent=1) if args.json else render_duplicates(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
