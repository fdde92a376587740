"""Every bad setting is found before any work: one line each with the key and a remedy, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.cli import main


@pytest.mark.parametrize("args, env, expected", [
    (["--batch-size", "0"], {}, ["batch_size = 0", "NEWSDESK_BATCH_SIZE"]),
    ([], {"NEWSDESK_BATCH_SIZE": "-1"}, ["batch_size = '-1'", "greater than or equal to 1"]),
    (["--workers", "0"], {}, ["workers = 0", "--workers"]),
    (["--workers", "-3", "--batch-size", "-5"], {}, ["workers = -3", "batch_size = -5"]),
    (["--model", "no_such_model"], {}, ["spacy_model = 'no_such_model'", "installed"]),
    ([], {"NEWSDESK_DOCUMENT_BUDGET_S": "0"}, ["document_budget_s = '0'"]),
])
def test_bad_settings_are_one_line_each_and_exit_2(args: list[str], env: dict[str, str], expected: list[str],
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code = main(["run", "--seeds", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb"), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert all(line.startswith("newsdesk: invalid setting ") for line in err.strip().splitlines()), err
    for piece in expected:
        assert piece in err, err
    assert not (tmp_path / "w.duckdb").exists()  # nothing was done


def test_unusable_paths_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    code = main(["run", "--seeds", str(tmp_path / "file"), "--warehouse", str(tmp_path / "file" / "w.duckdb"),
                 "--lake", str(tmp_path / "file")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 3, err
    assert "warehouse = " in err and "lake = " in err and "seeds = " in err and "is a file" in err


def test_a_bad_source_names_its_field_and_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "newsdesk.toml"
    config.write_text('[[sources]]\nname = "mine"\nkind = "nope"\nurl = "http://127.0.0.1/feed"\n')
    code = main(["--config", str(config), "run", "--seeds", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb")])
    err = capsys.readouterr().err
    assert code == 2 and "sources.kind = 'nope'" in err and "'mine'" in err, err


def test_help_documents_the_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "exit status: 0 all loaded; 1 loaded, with some inputs rejected" in " ".join(out.split())
    assert "3 the run failed" in " ".join(out.split())


def test_sql_shows_data_as_text_and_never_installs_extensions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from warehouse.load import connect

    warehouse = tmp_path / "w.duckdb"
    connect(warehouse).close()
    assert main(["sql", "--warehouse", str(warehouse), "SELECT '[/x] closing tag' AS a, 'root:x:0:0' AS b"]) == 0
    out = capsys.readouterr().out
    assert "[/x] closing tag" in out and "root:x:0:0" in out
    assert main(["sql", "--warehouse", str(warehouse), "INSTALL httpfs"]) == 2
    assert "newsdesk-offline" in capsys.readouterr().err  # a local path: no network
    assert main(["sql", "--warehouse", str(warehouse), "SET autoinstall_known_extensions = true"]) == 2
    assert main(["sql", "--warehouse", str(tmp_path / "none.duckdb"), "SELECT 1"]) == 2
