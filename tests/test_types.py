"""mypy --strict holds on every package the project ships (pyproject.toml's list): STYLE.md, issue 18."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]


def test_every_stage_package_is_shipped_and_so_checked() -> None:
    assert {"flows", "transforms", "warehouse", "evaluation", "bench"} <= set(PACKAGES)


@pytest.mark.slow
def test_mypy_strict_on_every_package() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", *PACKAGES],
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
