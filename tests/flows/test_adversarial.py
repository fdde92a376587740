"""One bad input never sinks a run: a generated folder of adversarial seeds next to good articles."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.conftest import query_warehouse as _query
from tests.flows.adversarial_seeds import write_adversarial_seeds


@pytest.fixture(scope="module")
def adversarial(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from flows.cli import main

    root = tmp_path_factory.mktemp("adversarial")
    expected = write_adversarial_seeds(root / "seeds", root / "outside")
    warehouse = root / "w.duckdb"
    # Most of this folder is bad on purpose: over the default max_reject_rate (0.5) the run would end
    # Failed (exit 3, tested in tests/flows/test_states.py); here the rest must load with exit 1.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NEWSDESK_MAX_REJECT_RATE", "1.0")
        code = main(["run", "--seeds", str(root / "seeds"), "--warehouse", str(warehouse), "--lake", str(root / "lake"),
                     "--workers", "1"])
    return {"code": code, "expected": expected, "warehouse": warehouse}


def test_exit_status_says_loaded_with_rejects(adversarial: dict[str, Any]) -> None:
    assert adversarial["code"] == 1


def test_one_reject_with_the_right_reason_per_bad_file(adversarial: dict[str, Any]) -> None:
    rows = _query(adversarial["warehouse"], "SELECT uri, reason, message FROM rejects ORDER BY uri")
    got = {uri: reason for uri, reason, _ in rows}
    bad = {name: reason for name, reason in adversarial["expected"].items() if reason}
    assert got == bad
    assert len(rows) == len(bad)  # one each
    assert all("\n" not in message and "Traceback" not in message for _, _, message in rows)


def test_every_good_file_loads_and_nothing_from_outside(adversarial: dict[str, Any]) -> None:
    good = {name for name, reason in adversarial["expected"].items() if reason is None}
    rows = dict(_query(adversarial["warehouse"], "SELECT uri, text FROM articles"))
    assert set(rows) == good
    assert not any("outside the seeds folder" in text for text in rows.values())
    assert len(rows["long.txt"]) > 1_000_000  # over spaCy's limit, parsed in pieces, not rejected
    assert "\x1b" not in rows["controls.txt"] and "\x00" not in rows["controls.txt"]
    assert "café" in rows["caf\\xe9.txt"]


def test_offsets_slice_the_stored_text(adversarial: dict[str, Any]) -> None:
    bad = _query(adversarial["warehouse"],
                 "SELECT count(*) FROM mentions m JOIN articles a USING (article_id, content_hash) "
                 "WHERE substr(a.text, m.start + 1, m.\"end\" - m.start) <> m.text")
    assert bad[0][0] == 0
    quotes = _query(adversarial["warehouse"],
                    "SELECT count(*), count(*) FILTER (WHERE substr(a.text, q.start + 1, q.\"end\" - q.start) <> q.text) "
                    "FROM quotes q JOIN articles a USING (article_id, content_hash)")
    assert quotes[0][0] > 0 and quotes[0][1] == 0


def test_repaired_decoding_is_recorded(adversarial: dict[str, Any]) -> None:
    rows = _query(adversarial["warehouse"], "SELECT uri FROM articles WHERE list_contains("
                                            "list_transform(provenance, p -> p.source), 'decode_repaired')")
    assert rows == [("mixed.txt",)]


@pytest.mark.slow
def test_adversarial_run_in_a_fresh_process_stays_under_1_gb(tmp_path: Path) -> None:
    """The whole run as a user starts it: exit 1, and the peak memory of the process tree under 1 GB."""
    expected = write_adversarial_seeds(tmp_path / "seeds", tmp_path / "outside")
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO),
           "NEWSDESK_MAX_REJECT_RATE": "1.0"}  # mostly bad on purpose (see the fixture above)
    # The run goes through a fresh wrapper process, so that the peak is this run's: this test process's own
    # RUSAGE_CHILDREN also holds every process an earlier test started (Prefect servers, crash children).
    command = [sys.executable, "-m", "flows.cli", "run", "--seeds", str(tmp_path / "seeds"), "--warehouse",
               str(tmp_path / "w.duckdb"), "--lake", str(tmp_path / "lake"), "--workers", "1"]
    wrapper = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)")
    done = subprocess.run([sys.executable, "-c", wrapper, *command], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 1, done.stderr[-3000:]
    peak_kb = int(done.stderr.strip().splitlines()[-1])  # the largest process of the run's tree
    assert peak_kb < 1_000_000, f"peak {peak_kb / 1024:.0f} MB"
    assert sum(1 for reason in expected.values() if reason) == done.stdout.count("  rejected ")
