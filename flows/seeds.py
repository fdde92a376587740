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
SKIPPED_NAMES = {"readme.md", "readme.txt", "readme", "license", "license.txt", "newsdesk.toml", "urls.tsv"}
URL_MANIFEST = "urls.tsv"  # `<file>\t<url>` lines: the URL each saved page was fetched from (read_seed_urls)


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
    urls = read_seed_urls(seeds, paths)
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
        documents.append(Document(uri=relative, source="seed", body=body, media_type=MEDIA_TYPES[suffix],
                                  url=urls.get(path)))
    return documents, rejects


def read_seed_urls(seeds: Path, paths: list[Path]) -> dict[Path, str]:
    """The URL each seed was fetched from, where a `urls.tsv` says (in its folder or a folder above, up to `seeds`).

    A manifest line is `<file>\t<url>`, the file relative to the manifest's folder; blank lines and `#`
    comments are ignored, and so (with a warning) are lines whose URL is not an absolute http(s) URL.
    """
    manifests: dict[Path, dict[Path, str]] = {}
    found: dict[Path, str] = {}
    for path in paths:
        folder = path.parent
        while True:
            if folder not in manifests:
                manifests[folder] = _read_manifest(folder / URL_MANIFEST)
            if path in manifests[folder]:
                found[path] = manifests[folder][path]
                break
            if folder == seeds or seeds not in folder.parents:
                break
            folder = folder.parent
    return found


def _read_manifest(manifest: Path) -> dict[Path, str]:
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as err:
        log.warning("cannot read %s: %s", manifest, err)
        return {}
    urls: dict[Path, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, tab, url = line.partition("\t")
        url = url.strip()
        if not tab or not url.lower().startswith(("http://", "https://")) or " " in url:
            log.warning("%s:%d: expected `<file>\t<http(s) URL>`, got %r: ignored", manifest, number, line[:200])
            continue
        urls[manifest.parent / name.strip()] = url
    return urls
