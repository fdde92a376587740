"""The stage boundaries in STYLE.md, checked: transforms/ is pure; SQL and DDL live in warehouse/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_TRANSFORMS = {"prefect", "duckdb", "httpx", "requests", "socket", "urllib.request", "subprocess",
                           "sqlite3", "aiohttp", "fsspec", "flows", "warehouse", "os", "shutil", "tempfile"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_transforms_are_pure() -> None:
    offenders = []
    for path in sorted((REPO / "transforms").glob("*.py")):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_IN_TRANSFORMS):
                offenders.append(f"{path.name} imports {name}")
        source = path.read_text(encoding="utf-8")
        if "os.environ" in source or "getenv(" in source:
            offenders.append(f"{path.name} reads the environment")
        if re.search(r"\bopen\(", source) and "def open" not in source:
            offenders.append(f"{path.name} opens files")
    assert not offenders, offenders


def test_only_warehouse_writes_ddl_and_no_global_duckdb() -> None:
    offenders = []
    for folder in ("flows", "transforms"):
        for path in sorted((REPO / folder).glob("*.py")):
            source = path.read_text(encoding="utf-8")
            if re.search(r"\b(CREATE|ALTER|DROP)\s+(TABLE|VIEW)\b", source):
                offenders.append(f"{folder}/{path.name} has DDL")
    for path in REPO.glob("*/*.py"):
        if "tests" in path.parts:
            continue
        if re.search(r"\bduckdb\.sql\(", path.read_text(encoding="utf-8")):
            offenders.append(f"{path} uses the module-level duckdb.sql()")
    assert not offenders, offenders


def test_no_modules_cut_by_kind() -> None:
    names = {p.stem for p in REPO.glob("*/*.py")}
    assert not names & {"utils", "helpers", "misc", "common"}
