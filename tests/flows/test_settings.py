"""Strict configuration: an unknown key or NEWSDESK_* variable is an error naming the closest valid key."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.cli import main
from flows.settings import unknown_environment, unknown_keys


def test_unknown_keys_everywhere_name_the_closest_valid_key() -> None:
    data = {"batchsize": 3, "fetch": {"timeout": 2}, "schedule": [{}],
            "sources": [{"name": "wire", "kind": "feed", "url": "http://x", "maxitems": 3}],
            "schedules": [{"name": "x", "crn": "*/5 * * * *"}, {"cron": "0 * * * *", "tz": "UTC"}]}
    assert unknown_keys(data, "newsdesk.toml") == [
        "unknown key 'batchsize' of newsdesk.toml; did you mean 'batch_size'?",
        "unknown key 'schedule' of newsdesk.toml; did you mean 'schedules'?",
        "unknown key 'timeout' in [fetch] of newsdesk.toml; did you mean 'timeout_s'?",
        "unknown key 'maxitems' in [[sources]] 'wire' of newsdesk.toml; did you mean 'max_items'?",
        "unknown key 'crn' in [[schedules]] 'x' of newsdesk.toml; did you mean 'cron'?",
        "unknown key 'tz' in [[schedules]] #2 of newsdesk.toml; valid keys: cron, groups, name, timezone",
    ]
    assert unknown_keys({"seeds": "s", "fetch": {"timeout_s": 1}, "schedules": [{"cron": "0 * * * *"}]}, "f") == []


def test_unknown_environment_variables() -> None:
    assert unknown_environment({"NEWSDESK_WORKER": "2", "NEWSDESK_WORKERS": "2", "HOME": "/"}) == [
        "unknown environment variable NEWSDESK_WORKER; did you mean 'NEWSDESK_WORKERS'?"]


def test_a_typo_in_newsdesk_toml_exits_2_with_the_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "newsdesk.toml"
    config.write_text('[[schedules]]\nname = "x"\ncrn = "*/5 * * * *"\n', encoding="utf-8")
    assert main(["--config", str(config), "serve"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == f"newsdesk: unknown key 'crn' in [[schedules]] 'x' of {config}; did you mean 'cron'?"


def test_an_unknown_variable_exits_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSDESK_BATCHSIZE", "3")
    assert main(["sql", "SELECT 1"]) == 2
    assert "unknown environment variable NEWSDESK_BATCHSIZE; did you mean 'NEWSDESK_BATCH_SIZE'?" in \
        capsys.readouterr().err


def test_prefect_defaults_agree_with_prefect_toml_and_workers_have_one_default() -> None:
    import inspect
    import tomllib

    from flows.ingest import ingest_news
    from flows.settings import DEFAULT_WORKERS, PREFECT_DEFAULTS, Settings

    toml = tomllib.loads((Path(__file__).resolve().parents[2] / "prefect.toml").read_text(encoding="utf-8"))["server"]
    assert PREFECT_DEFAULTS["PREFECT_SERVER_ANALYTICS_ENABLED"] == str(toml["analytics_enabled"]).lower()
    assert PREFECT_DEFAULTS["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == str(toml["ephemeral"]["startup_timeout_seconds"])
    flow_default = inspect.signature(ingest_news.fn).parameters["workers"].default
    assert Settings.model_fields["workers"].default == flow_default == DEFAULT_WORKERS >= 1
