"""Reading seed files from disk into `Document`s (the file I/O edge of the pipeline).

The seeds folder is a boundary: nothing outside it is read. A symlink that
resolves outside the folder, a symlink loop, a dangling link, an unreadable
folder or file each become a reject with a reason, never a silent skip.
File names may hold any bytes: a name that is not UTF-8 is shown (and keyed)
by its escaped form, which is one-to-one with its bytes.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path

from transforms.decoding import PayloadError, inflate
from transforms.errors import InputError, Reason
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
# A gzip seed may expand to this much. Extraction costs about 3 s per MB of HTML here, so a
# capped input costs a minute at worst, where the old 100 MB cap cost over five (and 3 GB).
MAX_INFLATED_BYTES = MAX_SEED_BYTES
# Documentation that lives next to the seeds, not seeds themselves.
SKIPPED_NAMES = {"readme.md", "readme.txt", "readme", "license", "license.txt", "newsdesk.toml", "urls.tsv"}
URL_MANIFEST = "urls.tsv"  # `<file>\t<url>` lines: the URL each saved page was fetched from (read_seed_urls)


class SeedError(InputError):
    """A seed that cannot be read; `reason` is the reject reason code."""

    STAGE = "read"


def to_display_name(relative: str) -> str:
    """A relative seed path as printable UTF-8, one-to-one with the name's bytes.

    Bytes that are not UTF-8 (kept by Python as surrogates) and control
    characters are written `\\xNN`, and a backslash as `\\\\`; every ordinary
    name is unchanged.
    """
    if relative.isprintable() and "\\" not in relative:
        return relative
    out: list[str] = []
    for char in relative:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif not char.isprintable():
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def _suffix(path: Path) -> tuple[str, bool]:
    name = path.name.lower()
    if name.endswith(".gz"):
        return Path(name[:-3]).suffix, True
    return path.suffix.lower(), False


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress every gzip member with a ceiling, so a gzip bomb cannot exhaust memory.

    A stream that stops before its end (a file cut short) raises SeedError("truncated").
    """
    try:
        return inflate(data, limit, members=True, complete=True)
    except PayloadError as err:
        if err.reason == "decompression_bomb":
            raise SeedError("too_large", f"decompresses to more than {limit} bytes") from None
        if err.reason == "truncated":
            raise SeedError("truncated", f"{err}: the file was cut short; copy it again") from None
        raise SeedError("unreadable", f"not a valid gzip stream ({err.detail})") from None


def _reject(relative: str, reason: Reason, message: str) -> Reject:
    name = to_display_name(relative)
    return Reject(name, "read", reason, f"{name}: {message}", to_article_id(f"seed:{name}"))


def _walk(seeds: Path, root: Path, rejects: list[Reject]) -> list[Path]:
    """Every regular file under `seeds` that stays inside it, symlinks to files included."""
    found: list[Path] = []

    def unreadable(err: OSError) -> None:
        where = Path(err.filename or seeds)
        relative = where.relative_to(seeds).as_posix() if where != seeds else "."
        rejects.append(_reject(relative, "unreadable", f"folder cannot be read ({err.strerror}); "
                                                        "fix its permissions or move it out of the seeds"))

    for folder, dirs, files in os.walk(seeds, onerror=unreadable, followlinks=False):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in list(dirs):
            if (here / name).is_symlink():  # a linked folder is not walked: it may loop or leave the seeds
                dirs.remove(name)
                files.append(name)
        for name in files:
            path = here / name
            relative = path.relative_to(seeds).as_posix()
            if name.startswith(".") or name.lower() in SKIPPED_NAMES:
                continue
            problem = _link_problem(path, root)
            if problem is not None:
                rejects.append(_reject(relative, *problem))
                continue
            found.append(path)
    return sorted(found)


def _link_problem(path: Path, root: Path) -> tuple[Reason, str] | None:
    """Why `path` (a file or a symlink) cannot be a seed, or None when it can."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve(strict=True)
    except RuntimeError:
        return "symlink_loop", "the symbolic link loops back on itself"
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "symlink_loop", "the symbolic link loops back on itself"
        if err.errno == errno.ENOENT:
            return "dangling_link", f"the symbolic link points to {os.readlink(path)!r}, which does not exist"
        return "unreadable", f"the symbolic link cannot be followed ({err.strerror})"
    if not target.is_relative_to(root):
        return "outside_seeds", "the symbolic link points outside the seeds folder: copy the file in instead"
    if not target.is_file():
        return "not_a_file", "the symbolic link points to a folder, which is not followed: link the files instead"
    return None


def list_seed_files(seeds: Path) -> tuple[list[Path], list[Reject]]:
    """The seed files under `seeds` (recursively, sorted), and Rejects for files that cannot be seeds."""
    if not seeds.is_dir():
        return [], [Reject(str(seeds), "read", "missing_seeds", f"seeds folder {seeds} does not exist")]
    root = seeds.resolve()
    paths: list[Path] = []
    rejects: list[Reject] = []
    for path in _walk(seeds, root, rejects):
        relative = path.relative_to(seeds).as_posix()
        if MEDIA_TYPES.get(_suffix(path)[0]) is None:
            rejects.append(_reject(relative, "unsupported_file_type", "seeds must be .txt, .md, .html or .html.gz"))
            continue
        paths.append(path)
    return paths, rejects


def read_seed(path: Path, root: Path) -> bytes:
    """A seed file's bytes (decompressed), read without leaving `root` and within the size caps."""
    try:
        info = path.stat()
        if path.is_symlink() and not path.resolve(strict=True).is_relative_to(root):
            raise SeedError("outside_seeds", "the symbolic link points outside the seeds folder")
        if not stat.S_ISREG(info.st_mode):
            raise SeedError("not_a_file", "not a regular file")
        if info.st_size > MAX_SEED_BYTES:
            raise SeedError("too_large", f"{info.st_size} bytes, over the {MAX_SEED_BYTES}-byte limit")
        body = path.read_bytes()
    except OSError as err:
        raise SeedError("unreadable", f"cannot be read ({err.strerror or err})") from None
    if _suffix(path)[1]:
        body = _gunzip(body, MAX_INFLATED_BYTES)
    return body


def read_seed_documents(seeds: Path, paths: list[Path]) -> tuple[list[Document], list[Reject]]:
    """Read seed files as Documents; unreadable ones become Rejects."""
    documents: list[Document] = []
    rejects: list[Reject] = []
    root = seeds.resolve()
    urls = read_seed_urls(seeds, paths)
    for path in paths:
        relative = path.relative_to(seeds).as_posix()
        try:
            body = read_seed(path, root)
        except SeedError as err:
            rejects.append(_reject(relative, err.reason, str(err)))
            continue
        except Exception as err:  # noqa: BLE001 - one bad file must not stop the batch
            log.exception("reading seed %s failed", to_display_name(relative))
            rejects.append(_reject(relative, "unreadable", f"{type(err).__name__}: {err}"))
            continue
        documents.append(Document(uri=to_display_name(relative), source="seed", body=body,
                                  media_type=MEDIA_TYPES[_suffix(path)[0]], url=urls.get(path)))
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
