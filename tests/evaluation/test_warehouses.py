"""The warehouse comparison: the seeds run twice into two warehouses give the same tables; a planted change shows."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from evaluation.warehouses import compare_warehouses, main, render
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    from prefect.testing.utilities import prefect_test_harness

    from flows.cli import main as newsdesk

    root = tmp_path_factory.mktemp("warehouses")
    warehouses = []
    with prefect_test_harness(server_startup_timeout=180):
        for name in ("first", "second"):
            warehouse = root / name / "newsdesk.duckdb"
            code = newsdesk(["run", "--seeds", str(SEEDS), "--warehouse", str(warehouse),
                             "--lake", str(root / name / "lake"), "--workers", "1"])
            assert code == 0, f"newsdesk run exited {code}"
            warehouses.append(warehouse)
    yield warehouses[0], warehouses[1]


def test_the_seeds_twice_give_the_same_warehouse(two_runs: tuple[Path, Path]) -> None:
    diffs = compare_warehouses(*two_runs)
    assert {d.name for d in diffs} >= {"articles", "mentions", "entities", "entity_aliases", "quotes", "rejects",
                                       "fetches", "runs", "stories", "article_fingerprints", "current_articles"}
    assert all(d.same for d in diffs), render(diffs)
    by_name = {d.name: d for d in diffs}
    assert by_name["articles"].rows_a == 5 and by_name["mentions"].rows_a > 100  # not two empty warehouses
    assert main([str(p) for p in two_runs]) == 0


def test_a_changed_row_is_found(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    changed = tmp_path / "changed.duckdb"
    shutil.copy(two_runs[1], changed)
    con = duckdb.connect(str(changed))
    con.execute("UPDATE quotes SET text = text || '!' WHERE quote_id = (SELECT min(quote_id) FROM quotes)")
    con.execute("DELETE FROM entity_aliases WHERE alias = (SELECT min(alias) FROM entity_aliases)")
    con.execute("ALTER TABLE stories ADD COLUMN note VARCHAR")
    con.close()
    by_name = {d.name: d for d in compare_warehouses(two_runs[0], changed)}
    assert (by_name["quotes"].only_a, by_name["quotes"].only_b) == (1, 1)
    assert by_name["quotes"].sample_b and str(by_name["quotes"].sample_b[0]).count("!")
    assert (by_name["entity_aliases"].only_a, by_name["entity_aliases"].only_b) == (1, 0)
    assert by_name["stories"].problem.startswith("columns differ")
    assert by_name["mentions"].same and by_name["articles"].same
    assert main([str(two_runs[0]), str(changed)]) == 1


def test_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "none.duckdb"), str(tmp_path / "other.duckdb")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
