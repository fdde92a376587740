"""Settings precedence, layer by layer: default < newsdesk.toml < NEWSDESK_* environment < CLI flag (flows/settings.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.cli import main
from flows.settings import load_settings

# field, its TOML/environment spelling, then the value each layer gives (file, environment, flag)
LAYERED: list[tuple[str, str, Any, Any, Any]] = [
    ("batch_size", "batch_size", 10, 20, 30),
    ("workers", "workers", 9, 10, 12),  # above the default (the CPU count, at most 8)
    ("spacy_model", "spacy_model", "from_file", "from_env", "from_flag"),
    ("warehouse", "warehouse", Path("file.duckdb"), Path("env.duckdb"), Path("flag.duckdb")),
    ("seeds", "seeds", Path("file_seeds"), Path("env_seeds"), Path("flag_seeds")),
    ("dask_address", "dask_address", "tcp://file:8786", "tcp://env:8786", "tcp://flag:8786"),
]


def _toml(value: Any) -> str:
    return f"{value}" if isinstance(value, int) else f'"{value}"'


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working folder (no newsdesk.toml) and no NEWSDESK_* variable that a layer below would set."""
    monkeypatch.chdir(tmp_path)
    for name, _, _, _, _ in LAYERED:
        monkeypatch.delenv(f"NEWSDESK_{name.upper()}", raising=False)
    monkeypatch.delenv("NEWSDESK_MAX_REJECT_RATE", raising=False)
    return tmp_path


@pytest.mark.parametrize("field, key, from_file, from_env, from_flag", LAYERED, ids=[row[0] for row in LAYERED])
def test_each_layer_overrides_the_one_below(clean: Path, monkeypatch: pytest.MonkeyPatch, field: str, key: str,
                                            from_file: Any, from_env: Any, from_flag: Any) -> None:
    default = getattr(load_settings(), field)
    assert default not in (from_file, from_env, from_flag)
    (clean / "newsdesk.toml").write_text(f"{key} = {_toml(from_file)}\n", encoding="utf-8")
    assert getattr(load_settings(), field) == from_file
    monkeypatch.setenv(f"NEWSDESK_{key.upper()}", str(from_env))
    assert getattr(load_settings(), field) == from_env
    assert getattr(load_settings(**{field: from_flag}), field) == from_flag
    assert getattr(load_settings(**{field: None}), field) == from_env  # a flag not given is no layer


def test_a_setting_without_a_flag_stops_at_the_environment(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().max_reject_rate == 0.5
    (clean / "newsdesk.toml").write_text("max_reject_rate = 0.25\n", encoding="utf-8")
    assert load_settings().max_reject_rate == 0.25
    monkeypatch.setenv("NEWSDESK_MAX_REJECT_RATE", "0.75")
    assert load_settings().max_reject_rate == 0.75


def test_config_flag_replaces_newsdesk_toml_and_stays_below_the_environment(clean: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    default_workers = load_settings().workers
    (clean / "newsdesk.toml").write_text("batch_size = 10\nworkers = 9\n", encoding="utf-8")
    other = clean / "other.toml"
    other.write_text("batch_size = 11\n", encoding="utf-8")
    settings = load_settings(other)
    assert settings.batch_size == 11
    assert settings.workers == default_workers != 9  # newsdesk.toml is not read when --config names another file
    monkeypatch.setenv("NEWSDESK_BATCH_SIZE", "20")
    assert load_settings(other).batch_size == 20


def test_the_cli_applies_the_same_order(clean: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Through `newsdesk sql`: the warehouse it looks for names the layer that won."""
    def looked_for(*flags: str) -> str:
        assert main(["sql", *flags, "SELECT 1"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("newsdesk: no warehouse at "), err
        return err.split("no warehouse at ", 1)[1].split(":", 1)[0]

    assert looked_for() == str(Path("warehouse/newsdesk.duckdb"))
    (clean / "newsdesk.toml").write_text('warehouse = "file.duckdb"\n', encoding="utf-8")
    assert looked_for() == "file.duckdb"
    monkeypatch.setenv("NEWSDESK_WAREHOUSE", "env.duckdb")
    assert looked_for() == "env.duckdb"
    assert looked_for("--warehouse", "flag.duckdb") == "flag.duckdb"
