"""mypy --strict holds on transforms/ and warehouse/ (STYLE.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_mypy_strict_on_transforms_and_warehouse() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "transforms", "warehouse"],
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
