"""`newsdesk sql` on a locked warehouse says at once that it waits, and who holds the lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import exit_code
from flows.states import RunFailed
from tests.conftest import REPO
from transforms.errors import ConfigError, NewsdeskError, NotInstalled, PermanentError, TransientError
from warehouse.load import connect


def test_sql_says_it_waits_for_the_lock_and_who_holds_it(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    holder = connect(warehouse)  # this process holds the write lock
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO), "NEWSDESK_LOCK_TIMEOUT_S": "1"}
        done = subprocess.run([sys.executable, "-m", "flows.cli", "sql", "--warehouse", str(warehouse), "SELECT 1"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    finally:
        holder.close()
    first = done.stderr.strip().splitlines()[0]
    assert first.startswith(f"newsdesk sql: waiting up to 1 s for warehouse {warehouse}, locked by another process")
    assert f"PID {os.getpid()})" in first, first
    assert done.returncode != 0 and "is held by another process" in done.stderr


@pytest.mark.parametrize(("error", "status"), [
    (NotInstalled("spaCy pipeline 'x' is missing"), 2),
    (ConfigError("bad setting"), 2),
    (PermanentError("spaCy pipeline 'x' is not installed"), 3),  # the text decides nothing
    (RunFailed("run r: too many rejects"), 3),
    (TransientError("warehouse busy"), 3),
])
def test_the_exit_status_comes_from_the_error_type(error: NewsdeskError, status: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(error) == status
    assert str(error).splitlines()[0] in capsys.readouterr().err
