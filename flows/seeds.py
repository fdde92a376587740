"""Reading seed files from disk into `Document`s (the file I/O edge of the pipeline)."""

from __future__ import annotations

import gzip
import logging
import zlib
from pathlib import Path

from transforms.models import Document, Reject, to_article_id

log = logging.getLogger(__name__)

MEDIA_TYPES = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
}
MAX_SEED_BYTES = 20_000_000
# Documentation that lives next to the seeds, not seeds themselves.
SKIPPED_NAMES = {"readme.md", "readme.txt", "readme", "license", "license.txt", "newsdesk.toml"}


def _suffix(path: Path) -> tuple[str, bool]:
    name = path.name.lower()
    if name.endswith(".gz"):
        return Path(name[:-3]).suffix, True
    return path.suffix.lower(), False


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress with a ceiling, so a gzip bomb cannot exhaust memory."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflater.decompress(data, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise ValueError(f"decompresses to more than {limit} bytes")
    return out


def list_seed_files(seeds: Path) -> tuple[list[Path], list[Reject]]:
    """The seed files under `seeds` (recursively, sorted), and Rejects for files that cannot be seeds."""
    if not seeds.is_dir():
        return [], [Reject(str(seeds), "read", "missing_seeds", f"seeds folder {seeds} does not exist")]
    paths: list[Path] = []
    rejects: list[Reject] = []
    for path in sorted(p for p in seeds.rglob("*") if p.is_file()):
        relative = path.relative_to(seeds).as_posix()
        if any(part.startswith(".") for part in path.relative_to(seeds).parts):
            continue
        if path.name.lower() in SKIPPED_NAMES:
            continue
        if MEDIA_TYPES.get(_suffix(path)[0]) is None:
            rejects.append(Reject(relative, "read", "unsupported_file_type",
                                  f"{relative}: seeds must be .txt, .md, .html or .html.gz",
                                  to_article_id(f"seed:{relative}")))
            continue
        paths.append(path)
    return paths, rejects


def read_seed_documents(seeds: Path, paths: list[Path]) -> tuple[list[Document], list[Reject]]:
    """Read seed files as Documents; unreadable ones become Rejects."""
    documents: list[Document] = []
    rejects: list[Reject] = []
    for path in paths:
        relative = path.relative_to(seeds).as_posix()
        article_id = to_article_id(f"seed:{relative}")
        suffix, compressed = _suffix(path)
        try:
            size = path.stat().st_size
            if size > MAX_SEED_BYTES:
                rejects.append(Reject(relative, "read", "too_large",
                                      f"{relative} is {size} bytes, over the {MAX_SEED_BYTES}-byte limit", article_id))
                continue
            body = path.read_bytes()
            if compressed:
                body = _gunzip(body, MAX_SEED_BYTES * 5)
        except (OSError, ValueError, zlib.error, gzip.BadGzipFile) as err:
            rejects.append(Reject(relative, "read", "unreadable", f"{relative}: {err}", article_id))
            continue
        documents.append(Document(uri=relative, source="seed", body=body, media_type=MEDIA_TYPES[suffix]))
    return documents, rejects
