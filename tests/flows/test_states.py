"""Run states that say what happened: Failed on a wrong configuration or too many rejects, a named Completed."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.settings import ConfigError
from flows.states import (
    COMPLETED_WITH_REJECTS,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REJECTS,
    check_configuration,
    exit_status,
    final_state,
    reject_rate,
    run_result,
)
from tests.conftest import SEED_TXT
from transforms.models import Reject, RunSummary


def _result(articles: int, rejected: int, unchanged: int = 0) -> RunSummary:
    return RunSummary(run_id="r", counts={"articles": articles, "rejected": rejected, "unchanged": unchanged},
                      added={"articles": articles}, totals={}, checks={},
                      rejects_by_reason={"fetch:timeout": rejected} if rejected else {}, rejects=[],
                      failures_by_host={}, top_entities=[], entities_total=0, top_speakers=[], unresolved_speakers=[],
                      timings={}, trend=[])


def test_reject_rate_counts_unchanged_inputs_as_seen() -> None:
    assert reject_rate({"articles": 1, "rejected": 3}) == 0.75
    assert reject_rate({"articles": 0, "rejected": 3, "unchanged": 9}) == 0.25
    assert reject_rate({}) is None


def test_final_states_and_exit_statuses() -> None:
    clean = final_state(_result(5, 0), 0.5)
    assert clean.is_completed() and clean.name == "Completed" and exit_status(clean) == EXIT_OK
    some = final_state(_result(5, 1), 0.5)
    assert some.is_completed() and some.name == COMPLETED_WITH_REJECTS and exit_status(some) == EXIT_REJECTS
    assert "5 articles (5 new), 1 rejected (timeout 1)" == some.message
    many = final_state(_result(1, 3), 0.5)
    assert many.is_failed() and exit_status(many) == EXIT_FAILED
    assert "75% of inputs rejected, over max_reject_rate 0.5" in (many.message or "")
    assert final_state(_result(1, 3), 0.8).name == COMPLETED_WITH_REJECTS  # the setting decides


def test_a_missing_seeds_folder_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="seeds folder /nowhere does not exist"):
        check_configuration([Reject("/nowhere", "read", "missing_seeds", "seeds folder /nowhere does not exist")])
    check_configuration([Reject("a.txt", "read", "empty", "a.txt is empty")])  # a bad input is no config error


def test_missing_seeds_folder_ends_failed(prefect_harness: None, tmp_path: Path) -> None:
    from flows.ingest import ingest_news

    state = ingest_news(seeds=str(tmp_path / "no-such-folder"), warehouse=str(tmp_path / "w.duckdb"),
                        lake_url=str(tmp_path / "lake"), raw=str(tmp_path / "raw"), return_state=True)
    assert state.is_failed(), state
    assert "no-such-folder does not exist" in (state.message or "")
    with pytest.raises(ConfigError, match="does not exist"):
        run_result(state)


def test_reject_rate_over_the_setting_ends_failed_and_cli_exits_3(prefect_harness: None, tmp_path: Path) -> None:
    from flows.cli import main

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_bytes(SEED_TXT.read_bytes())
    for i in range(2):
        (seeds / f"empty{i}.txt").write_bytes(b"")
    args = ["run", "--seeds", str(seeds), "--warehouse", str(tmp_path / "w.duckdb"), "--lake", str(tmp_path / "lake"),
            "--workers", "1"]
    assert main(args) == EXIT_FAILED  # 2 of 3 rejected > 0.5
    config = tmp_path / "newsdesk.toml"
    config.write_text("max_reject_rate = 0.9\n", encoding="utf-8")
    (seeds / "empty2.txt").write_bytes(b"")
    assert main(["--config", str(config), *args]) == EXIT_REJECTS  # 3 rejected of 4 seen (1 unchanged) < 0.9
