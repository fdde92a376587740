"""Every example command shown in `--help` epilogs and README code blocks that can run offline, runs.

Examples that need what a test must not have (the internet, a Dask cluster, a Prefect server,
labelled data read from ../shared/data, a process that runs until stopped) are listed with
why they are skipped; every other one runs for real, in a folder holding a copy of seeds/.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import _parser
from tests.conftest import REPO, SEEDS

NOT_OFFLINE = {
    "serve": "runs until stopped, against a Prefect server (tests/flows/test_serve.py runs it)",
    "eval": "scores labelled data from ../shared/data (the eval tests run it)",
}
NEEDS_NETWORK = ("https://", "http://", "tcp://", "s3://", "--urls-file")
# Commands that need something a fresh clone does not have: a DuckLake catalog (a PostgreSQL server or
# a catalog file made first; tests/warehouse/test_ducklake.py runs these), a WARC archive
# (tests/flows/test_ingest_warc.py builds one).
NEEDS_MORE = {"ducklake:": "needs a DuckLake catalog", "--at ": "needs a DuckLake catalog (time travel)",
              ".snapshots()": "needs a DuckLake catalog", "--warc": "needs a WARC archive"}


def help_examples() -> list[str]:
    """The example commands of every --help epilog (an example may span several lines)."""
    parser = _parser()
    epilogs = [parser.epilog or ""]
    epilogs += [sub.epilog or "" for sub in parser._subparsers._group_actions[0].choices.values()]  # type: ignore[union-attr]
    commands = []
    for epilog in epilogs:
        for line in epilog.removeprefix("example:").splitlines():
            for part in line.split("&&"):
                part = part.split("  #")[0].strip()
                if part.startswith("newsdesk "):
                    commands.append(part)
    return commands


def readme_examples() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", readme, flags=re.DOTALL))
    # a trailing `  # comment` explains the line: it is not part of the command
    return [line.split("  #")[0].strip() for line in blocks.splitlines() if line.strip().startswith("newsdesk ")]


def why_not_offline(command: str) -> str | None:
    verb = shlex.split(command)[1]
    if verb in NOT_OFFLINE:
        return NOT_OFFLINE[verb]
    if any(marker in command for marker in NEEDS_NETWORK):
        return "fetches from the network"
    return next((why for marker, why in NEEDS_MORE.items() if marker in command), None)


def test_examples_are_found_and_the_help_epilogs_are_not_rewrapped() -> None:
    commands = help_examples()
    assert "newsdesk sql --file who_is_quoted" in commands
    assert 'newsdesk sql "SELECT * FROM most_quoted_speakers LIMIT 5"' in commands
    assert any(c.startswith("newsdesk run ") for c in readme_examples())


@pytest.mark.slow
def test_every_offline_example_runs(tmp_path: Path) -> None:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update({"NEWSDESK_PREFECT_SERVER": "in-process", "PYTHONPATH": str(REPO), "NEWSDESK_WORKERS": "1"})
    commands = list(dict.fromkeys(help_examples() + readme_examples()))
    runnable = [c for c in commands if why_not_offline(c) is None]
    # the runs first: the queries need a warehouse
    runnable.sort(key=lambda c: not c.startswith(("newsdesk run", "newsdesk reextract")))
    assert len(runnable) >= 8, runnable
    failures = []
    for command in runnable:
        args = [sys.executable, "-m", "flows.cli", *shlex.split(command)[1:]]
        done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode not in (0, 1):  # 1: some seeds rejected, the rest loaded
            failures.append(f"{command}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    assert not failures, "\n".join(failures)
