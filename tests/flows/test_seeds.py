"""The seeds folder is a boundary; every file that cannot be a seed is a reject with its reason."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from flows.seeds import MAX_INFLATED_BYTES, list_seed_files, read_seed_documents, to_display_name
from transforms.models import to_article_id

TEXT = b"A headline\n\nA paragraph of the story.\n"


def _read(seeds: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    paths, listed = list_seed_files(seeds)
    documents, rejects = read_seed_documents(seeds, paths)
    return {d.uri: d.body for d in documents}, {r.uri: r.reason for r in listed + rejects}


def test_links_out_of_the_folder_loops_and_dangling_links_are_rejects(tmp_path: Path) -> None:
    seeds, outside = tmp_path / "seeds", tmp_path / "outside"
    seeds.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret\n\nnot a seed\n")
    (outside / "folder").mkdir()
    (outside / "folder" / "inner.txt").write_bytes(TEXT)
    (seeds / "good.txt").write_bytes(TEXT)
    (seeds / "passwd.txt").symlink_to(outside / "secret.txt")
    (seeds / "relative.txt").symlink_to(Path("..") / "outside" / "secret.txt")
    (seeds / "linked_folder").symlink_to(outside / "folder")
    (seeds / "loop.txt").symlink_to(seeds / "loop.txt")
    (seeds / "a.txt").symlink_to(seeds / "b.txt")
    (seeds / "b.txt").symlink_to(seeds / "a.txt")
    (seeds / "dangling.txt").symlink_to(seeds / "gone.txt")
    (seeds / "inside.txt").symlink_to(seeds / "good.txt")
    bodies, reasons = _read(seeds)
    assert set(bodies) == {"good.txt", "inside.txt"}
    assert reasons == {"passwd.txt": "outside_seeds", "relative.txt": "outside_seeds", "linked_folder": "outside_seeds",
                       "loop.txt": "symlink_loop", "a.txt": "symlink_loop", "b.txt": "symlink_loop",
                       "dangling.txt": "dangling_link"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder whatever its permissions")
def test_an_unreadable_folder_is_a_reject(tmp_path: Path) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.txt").write_bytes(TEXT)
    (tmp_path / "locked").chmod(0)
    try:
        _, reasons = _read(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert reasons == {"locked": "unreadable"}


def test_file_names_of_any_bytes(tmp_path: Path) -> None:
    (tmp_path / os.fsdecode(b"caf\xe9.txt")).write_bytes(TEXT)
    (tmp_path / "café.txt").write_bytes(TEXT)
    (tmp_path / "back\\slash.txt").write_bytes(TEXT)
    (tmp_path / "bell\x07.txt").write_bytes(TEXT)
    bodies, reasons = _read(tmp_path)
    assert not reasons
    assert set(bodies) == {"caf\\xe9.txt", "café.txt", "back\\\\slash.txt", "bell\\x07.txt"}
    assert all(name.encode("utf-8") for name in bodies)  # every uri is valid UTF-8 (Parquet, DuckDB)
    assert len({to_article_id(f"seed:{name}") for name in bodies}) == 4


def test_display_names_are_one_to_one_with_the_bytes() -> None:
    names = [b"caf\xe9.txt", b"caf\\xe9.txt", b"caf\xc3\xa9.txt", b"a\\b", b"a\\\\b", b"tab\there", b"ok.txt"]
    shown = [to_display_name(os.fsdecode(n)) for n in names]
    assert len(set(shown)) == len(names)
    assert shown[-1] == "ok.txt" and shown[2] == "café.txt"


def test_gzip_must_end_properly_and_stay_under_the_cap(tmp_path: Path) -> None:
    whole = gzip.compress(TEXT * 50)
    (tmp_path / "whole.txt.gz").write_bytes(whole)
    (tmp_path / "two_members.txt.gz").write_bytes(gzip.compress(TEXT) + gzip.compress(b"More.\n"))
    (tmp_path / "cut.txt.gz").write_bytes(whole[: len(whole) * 6 // 10])
    (tmp_path / "cut_header.html.gz").write_bytes(whole[:5])
    (tmp_path / "not_gzip.txt.gz").write_bytes(b"plain text, not gzip at all")
    (tmp_path / "bomb.html.gz").write_bytes(gzip.compress(b" " * (MAX_INFLATED_BYTES + 10)))
    bodies, reasons = _read(tmp_path)
    assert bodies == {"whole.txt.gz": TEXT * 50, "two_members.txt.gz": TEXT + b"More.\n"}
    assert reasons == {"cut.txt.gz": "truncated", "cut_header.html.gz": "truncated", "not_gzip.txt.gz": "unreadable",
                       "bomb.html.gz": "too_large"}
