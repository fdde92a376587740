"""The README's commands and the CLI agree."""

from __future__ import annotations

import re
from pathlib import Path

from flows.cli import _parser

REPO = Path(__file__).resolve().parent.parent


def test_readme_commands_exist() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", readme, flags=re.DOTALL))
    verbs = set(re.findall(r"^\s*newsdesk ([a-z][a-z-]*)", blocks, flags=re.MULTILINE))
    assert {"run", "sql", "eval"} <= verbs
    choices = _parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert verbs <= set(choices), verbs - set(choices)


def test_readme_setup_commands_are_make_targets() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^\s*make ([a-z-]+)\s*$", readme, flags=re.MULTILINE))
    assert {"run", "test"} <= targets
    for target in targets:
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE), target
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, flags=re.MULTILINE)


def test_every_command_has_help_with_example() -> None:
    parser = _parser()
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, sub in choices.items():
        assert "example:" in (sub.epilog or ""), name
