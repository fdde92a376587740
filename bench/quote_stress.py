"""Quote extraction on adversarial text: unbalanced quotation marks of every kind, 1 KB to 1 MB.

    python -m bench.quote_stress            # seconds per size, and the growth per doubling

One unit of text (a long paragraph of unbalanced marks, digits with inch marks,
speech verbs and pronouns) is parsed once with the real pipeline; a size is that
parse repeated (`Doc.from_docs`) into ONE paragraph, so the quote stage sees a
paragraph as long as the whole text, as an attacker's page would give it. The
parser's own time is not measured: it is linear, and the NLP stage works in chunks.
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any

from transforms.models import Article, to_content_hash

MARKS = "“”\"«»„‟‘’'‚‹›"
UNIT = 16_000  # characters parsed for real; longer texts repeat this parse
WORDS = ("the plan", "said", "he said", "she told reporters", "according to officials", "Smith said", "it was",
         "a 12", "5", "and", "but", "claimed", "the minister", "wrote", "that", "Paris", "Jones", "warned")


def adversarial_unit(size: int, seed: int = 7, pattern: str = "mixed") -> str:
    """About `size` characters of prose studded with unmatched and mismatched quotation marks.

    `mixed`: every kind of mark, opening, closing or loose, in short sentences; `sentence`: one
    sentence with a speech verb whose clause holds many quotations; `open`: marks that only open;
    `inch`: digits followed by straight marks (5'11", a 12" pizza).
    """
    rng = random.Random(seed)
    out: list[str] = ["The minister said that"] if pattern == "sentence" else []
    length = 0
    while length < size:
        word = rng.choice(WORDS).replace(".", "")
        mark = rng.choice(MARKS)
        if pattern == "sentence":
            piece = rng.choice([f"\"{word}\"", f"“{word},” and", f"{mark}{word}", word, "that"])
        elif pattern == "open":
            piece = f"{rng.choice('“„«‘‚‹')}{word}"
        elif pattern == "inch":
            piece = rng.choice([f"{rng.randint(1, 99)}\"", f"{rng.randint(1, 9)}'", f"\"{word}", word])
        else:
            piece = rng.choice([f"{mark}{word}", f"{word}{mark}", f"{word} {mark}", f"{word},", f"{word}.", word])
        out.append(piece)
        length += len(piece) + 1
    return " ".join(out)


PATTERNS = ("mixed", "sentence", "open", "inch")


def adversarial_doc(nlp: Any, size: int, unit: Any = None, pattern: str = "mixed") -> tuple[Any, Article]:
    """A parsed one-paragraph text of about `size` characters, and its Article."""
    from spacy.tokens import Doc

    unit = unit if unit is not None else nlp(adversarial_unit(min(size, UNIT), pattern=pattern))
    copies = max(1, round(size / len(unit.text)))
    doc = Doc.from_docs([unit] * copies, ensure_whitespace=True) if copies > 1 else unit
    text = doc.text
    article = Article(article_id="stress", content_hash=to_content_hash(text), uri="stress", source="seed", text=text)
    return doc, article


def time_quotes(nlp: Any, sizes: list[int], pattern: str = "mixed",
                repeats: int = 1) -> list[tuple[int, float, int, float]]:
    """(characters, seconds, quotes, CPU seconds) of quote extraction at each size (entities as the pipeline
    gives them), the fastest of `repeats` runs with the collector paused. CPU seconds are this thread's
    (`time.thread_time`): the fair figure on a shared machine, and blind to other threads of the process
    (a test session's Prefect harness, log shippers)."""
    import gc

    from transforms.entities import extract_entities
    from transforms.quotes import extract_quotes

    unit = nlp(adversarial_unit(UNIT, pattern=pattern))
    rows = []
    for size in sizes:
        doc, article = adversarial_doc(nlp, size, unit if size >= UNIT else None, pattern)
        mentions, _ = extract_entities([doc], [article])
        best = (float("inf"), 0, float("inf"))  # seconds, quotes, CPU seconds of the fastest run
        for _ in range(max(1, repeats)):
            gc.collect()
            gc.disable()
            try:
                started, cpu = time.perf_counter(), time.thread_time()
                quotes = extract_quotes(doc, article, mentions)
                seconds, cpu_seconds = time.perf_counter() - started, time.thread_time() - cpu
            finally:
                gc.enable()
            if cpu_seconds < best[2]:
                best = (seconds, len(quotes), cpu_seconds)
        rows.append((len(article.text), *best))
    return rows


def main() -> None:
    import spacy

    from bench.seed import MODEL

    patterns = [a for a in sys.argv[1:] if a in PATTERNS] or list(PATTERNS)
    sizes = [int(a) for a in sys.argv[1:] if a.isdigit()] or [1_000, 4_000, 16_000, 64_000, 256_000, 1_000_000]
    nlp = spacy.load(MODEL)
    for pattern in patterns:
        previous = None
        for chars, seconds, quotes, cpu in time_quotes(nlp, sizes, pattern):
            growth = f"  x{seconds / previous[1]:.1f} time for x{chars / previous[0]:.1f} text" if previous else ""
            print(f"{pattern:>8} {chars:>9} chars  {seconds:7.2f} s ({cpu:6.2f} s CPU)  {quotes:6} quotes{growth}",
                  flush=True)
            previous = (chars, seconds)


if __name__ == "__main__":
    main()
