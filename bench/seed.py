"""The seed article the golden files are made from, read exactly as the flow reads it."""

from __future__ import annotations

from pathlib import Path

from flows.languages import DEFAULT_MODEL
from transforms.models import Article, Document
from transforms.text import parse_text

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_e3185f102c2f0dfe.txt"
MODEL = DEFAULT_MODEL


def read_seed_article(path: Path = SEED) -> Article:
    extracted = parse_text(Document(path.name, "seed", path.read_bytes(), "text/plain"))
    if extracted.article is None:
        raise ValueError(f"{path}: no article ({extracted.reject})")
    return extracted.article
