"""Score language identification, quotes by marks and French entities on a labelled JSONL file.

`newsdesk eval language FILE...`. Each line of FILE is one labelled text:

- `{"id", "language", "title", "text", "quotes": [{"text", "speaker"}]}` (a news story: its title alone
  and the article as the pipeline sees it, headline then body, are both identified; the gold quotes,
  where given, are looked for with `transforms.speech` and the language's speech verbs);
- `{"id", "language": "fr", "text", "entities": [{"text", "type"}]}` (a French entity check: the
  French pipeline's mentions, labels mapped to ours, against gold PERSON / ORG / PLACE names).

Language accuracy is reported on articles of 500+ characters and on titles alone, overall and per
language, with every miss listed. A gold quote is found when a quote's content equals it (marks,
dashes and edge punctuation aside); its speaker is right when every word of the gold speaker is in
the stored speaker text. `tests/fixtures/language/` holds the labelled set written for the project.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from transforms.language import detect_language
from transforms.models import Article

LONG_CHARS = 500
_EDGE = " \t\n\u00a0«»“”„‟\"'‘’‚‹›「」『』—–―-,.;:!?…"


def read_labelled(path: Path) -> list[dict[str, Any]]:
    items = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}:{number}: not JSON ({err.msg})") from None
    return items


def article_text(item: dict[str, Any]) -> str:
    """The text as the pipeline holds it: headline, blank line, body."""
    return f"{item['title']}\n\n{item['text']}" if item.get("title") else str(item["text"])


def _core(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip(_EDGE)).lower()


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"\w+", text)}


def score_language(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy of the identified language on long articles and on titles, per language, with the misses."""
    result: dict[str, Any] = {}
    for name, texts in (("articles", [(i, article_text(i)) for i in items if len(article_text(i)) >= LONG_CHARS]),
                        ("titles", [(i, str(i["title"])) for i in items if i.get("title")])):
        right: Counter[str] = Counter()
        total: Counter[str] = Counter()
        misses = []
        for item, text in texts:
            guess = detect_language(text)
            total[item["language"]] += 1
            if guess.language == item["language"]:
                right[item["language"]] += 1
            else:
                misses.append({"id": item["id"], "gold": item["language"], "got": guess.language,
                               "confidence": guess.confidence, "text": text[:80]})
        result[name] = {
            "n": sum(total.values()),
            "accuracy": round(sum(right.values()) / max(1, sum(total.values())), 4),
            "by_language": {lang: round(right[lang] / total[lang], 4) for lang in sorted(total)},
            "misses": misses,
        }
    return result


def score_quotes(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Gold quotes found by their marks, and their speakers as written (no NER: the unsupported-language path)."""
    from flows.languages import read_speech_cues
    from transforms.speech import extract_marked_quotes

    cues = read_speech_cues()
    gold_total = found = speakers = spurious = 0
    misses = []
    for item in items:
        article = Article(item["id"], "", item["id"], "eval", article_text(item), language=item["language"])
        quotes = extract_marked_quotes(article, [], cues.get(item["language"]))
        gold = item.get("quotes", [])
        if not gold:
            spurious += len(quotes)
            continue
        for quote in gold:
            gold_total += 1
            match = next((q for q in quotes if _core(q.text) == _core(quote["text"])), None)
            if match is None:
                misses.append({"id": item["id"], "gold": quote["text"][:60], "got": None})
                continue
            found += 1
            if _words(quote["speaker"]) <= _words(match.speaker or ""):
                speakers += 1
            else:
                misses.append({"id": item["id"], "gold_speaker": quote["speaker"], "got": match.speaker})
    return {"gold": gold_total, "found": found, "recall": round(found / max(1, gold_total), 4),
            "speaker_accuracy": round(speakers / max(1, found), 4),
            "quotes_in_texts_without_gold": spurious, "misses": misses}


def score_entities(items: list[dict[str, Any]], models: dict[str, str]) -> dict[str, Any]:
    """Mention F1 (name and coarse type) of each language's pipeline on texts with gold entities."""
    from flows.analyse import load_pipeline
    from transforms.entities import extract_entities
    from transforms.ids import to_coarse_type

    by_language: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_language[item["language"]].append(item)
    result: dict[str, Any] = {}
    for language, group in sorted(by_language.items()):
        model = models.get(language)
        if model is None:
            result[language] = {"skipped": f"no pipeline for {language!r} in [nlp] models"}
            continue
        nlp = load_pipeline(model)
        articles = [Article(i["id"], "", i["id"], "eval", i["text"], language=language) for i in group]
        docs = list(nlp.pipe([a.text for a in articles]))
        mentions, _ = extract_entities(docs, articles, ())
        tp = fp = fn = 0
        errors = []
        for item in group:
            gold = {(e["text"], e["type"]) for e in item["entities"] if e["type"] in ("PERSON", "ORG", "PLACE")}
            got = {(m.text, to_coarse_type(m.label)) for m in mentions if m.article_id == item["id"]}
            got = {g for g in got if g[1] in ("PERSON", "ORG", "PLACE")}
            tp += len(gold & got)
            fp += len(got - gold)
            fn += len(gold - got)
            errors += [{"id": item["id"], "missed": sorted(gold - got), "extra": sorted(got - gold)}]
        precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
        f1 = 2 * precision * recall / max(1e-9, precision + recall)
        result[language] = {"model": model, "documents": len(group), "precision": round(precision, 4),
                            "recall": round(recall, 4), "f1": round(f1, 4),
                            "labels_seen": sorted({m.label for m in mentions}),
                            "errors": [e for e in errors if e["missed"] or e["extra"]]}
    return result


def evaluate_language(path: Path, models: dict[str, str] | None = None) -> dict[str, Any]:
    """Every score the file's labels allow: language and quotes for stories, entities for entity checks."""
    from flows.languages import to_models

    items = read_labelled(path)
    stories = [i for i in items if "entities" not in i]
    checks = [i for i in items if "entities" in i]
    result: dict[str, Any] = {"file": str(path), "texts": len(items),
                              "languages": dict(sorted(Counter(i["language"] for i in items).items()))}
    if stories:
        result["language"] = score_language(stories)
        if any(i.get("quotes") for i in stories):
            result["quotes"] = score_quotes(stories)
    if checks:
        result["entities"] = score_entities(checks, to_models(models))
    return result


def render_language(result: dict[str, Any]) -> str:
    lines = [f"{result['file']}: {result['texts']} texts, languages {result['languages']}"]
    for name, part in result.get("language", {}).items():
        lines.append(f"language on {name} (n={part['n']}): accuracy {part['accuracy']:.3f}  "
                     + " ".join(f"{k}={v:.2f}" for k, v in part["by_language"].items()))
        lines += [f"  miss {m['id']}: gold {m['gold']}, got {m['got']} ({m['confidence']:.2f}) {m['text']!r}"
                  for m in part["misses"]]
    if "quotes" in result:
        q = result["quotes"]
        lines.append(f"quotes by marks: {q['found']}/{q['gold']} found (recall {q['recall']:.3f}), speaker "
                     f"accuracy {q['speaker_accuracy']:.3f}; {q['quotes_in_texts_without_gold']} quotes in texts "
                     "with no gold quote")
        lines += [f"  miss {m}" for m in q["misses"]]
    for language, part in result.get("entities", {}).items():
        if "skipped" in part:
            lines.append(f"entities {language}: {part['skipped']}")
            continue
        lines.append(f"entities {language} ({part['model']}, {part['documents']} texts): P {part['precision']:.3f} "
                     f"R {part['recall']:.3f} F1 {part['f1']:.3f}; labels {part['labels_seen']}")
        lines += [f"  {e['id']}: missed {e['missed']} extra {e['extra']}" for e in part["errors"]]
    return "\n".join(lines)
