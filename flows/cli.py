"""`newsdesk`: a thin command line over the flows and the warehouse.

Each command is a few lines over a library function (`flows.run_once`, `flows.queries`,
`flows.serve`, `warehouse.*`); the arguments are declared in `flows.arguments`, the flow's
parameters come from `flows.parameters`. Data goes to stdout; messages and progress to
stderr. Exit statuses mean one thing each (EXIT_STATUSES), chosen by the type of the
error, never by its text: 0 all loaded, 1 loaded with some inputs rejected, 2 a usage or
configuration error (nothing was done), 3 the run failed (nothing, or not everything, was loaded).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flows import stopping
from flows.arguments import EXIT_STATUSES, build_parser
from flows.parameters import run_settings, setting_overrides
from flows.settings import Settings, load_settings
from flows.states import EXIT_FAILED, RunStopped, exit_status
from transforms.errors import ConfigError, NewsdeskError, NotInstalled

EXIT_OK, EXIT_REJECTS, EXIT_USAGE = 0, 1, 2
_parser = build_parser  # the name tests/test_readme.py and tests/test_examples.py import
__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_REJECTS", "EXIT_STATUSES", "EXIT_USAGE", "main"]


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _print_table(names: list[str], rows: list[tuple[Any, ...]], fmt: str = "table") -> None:
    from flows.terminal import print_table

    print_table(names, rows, fmt)


def cmd_run(settings: Settings, args: argparse.Namespace, reextract: bool = False) -> int:
    from flows.run_once import example_tables, run_once, summary_lines

    state, result = run_once(run_settings(settings, args) if not reextract else settings, reextract or args.force, reextract)
    print("\n".join(summary_lines(result)))
    for title, query, names, rows in example_tables(settings):
        print(f"\n{title}:\n  newsdesk sql \"{query}\"")
        _print_table(names, rows)
    if state.is_failed():
        _err(f"newsdesk: run failed: {state.message}")
    return exit_status(state)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from flows.serve import serve_deployments

    serve_deployments(settings)
    return EXIT_OK


def cmd_reextract(settings: Settings, args: argparse.Namespace) -> int:
    return cmd_run(settings, args, reextract=True)


def cmd_load_pending(settings: Settings, args: argparse.Namespace) -> int:
    from warehouse.pending import load_pending_runs

    loaded = load_pending_runs(Path(settings.warehouse), settings.lake, settings.storage_options(), settings.lock_timeout_s)
    for run_id in loaded:
        print(f"loaded pending run {run_id}")
    if not loaded:
        _err(f"newsdesk: no pending runs for {settings.warehouse} in {settings.lake}")
    return EXIT_OK


def cmd_sql(settings: Settings, args: argparse.Namespace) -> int:
    import duckdb

    from flows.queries import query_warehouse
    from flows.terminal import escape_controls

    try:
        names, rows = query_warehouse(settings, args.query, args.file, args.at, lambda waiting: _err(f"newsdesk sql: {waiting}"))
    except duckdb.Error as err:
        _err(f"newsdesk sql: {escape_controls(str(err).splitlines()[0])}")
        return EXIT_USAGE
    _print_table(names, rows, args.format)
    return EXIT_OK


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    from flows.queries import search_warehouse

    _print_table(*search_warehouse(settings, args.query, args.since, args.entity, args.speaker, args.limit,
                                   args.reindex), args.format)
    return EXIT_OK


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from warehouse.backend import describe
    from warehouse.migrate import migrate_warehouse

    _err(f"newsdesk: copying {describe(settings.warehouse)} into {describe(args.to)}")
    report = migrate_warehouse(settings.warehouse, args.to, settings.lake, settings.storage_options(), settings.lock_timeout_s)
    for table, (source_rows, target_rows, added) in report.items():
        print(f"  {table:<15} {source_rows:>8} rows, +{added} copied, {target_rows} in the target, keys equal")
    return EXIT_OK


def cmd_eval(stage: str, paths: list[Path], as_json: bool, limit: int | None, model: str,
             models: dict[str, str] | None = None) -> int:
    for path in paths:
        if not path.exists():
            raise ConfigError(f"{path} does not exist")
    if stage == "language":
        from evaluation.language import evaluate_language, render_language

        try:
            results = [evaluate_language(p, models) for p in paths]
        except (ValueError, KeyError) as err:
            raise ConfigError(f"not a labelled language file: {err}") from None
        text = "\n".join(render_language(r) for r in results)
    elif stage == "quotes":
        from evaluation.quotes import evaluate_quotes, render_quotes

        results = [evaluate_quotes(p, model=model, limit=limit) for p in paths]
        text = "\n".join(render_quotes(r) for r in results)
    elif stage == "duplicates":
        from evaluation.duplicates import evaluate_duplicates, render_duplicates

        results = [evaluate_duplicates(p) for p in paths]
        text = "\n".join(render_duplicates(r) for r in results)
    elif stage == "entities":
        from evaluation.entities import evaluate_entities, render_entities

        results = [evaluate_entities(paths, model=model, limit=limit)]
        text = render_entities(results[0])
    else:
        from evaluation.extraction import evaluate_extraction, render_extraction

        results = [evaluate_extraction(p, limit=limit) for p in paths]
        text = "\n".join(render_extraction(r) for r in results)
    print(json.dumps(results if len(results) > 1 else results[0], indent=1, default=str) if as_json else text)
    return EXIT_OK


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "run": cmd_run, "serve": cmd_serve, "reextract": cmd_reextract, "load-pending": cmd_load_pending, "sql": cmd_sql,
    "search": cmd_search, "migrate": cmd_migrate,
    "eval": lambda settings, args: cmd_eval(args.stage, args.paths, args.json, args.limit, settings.spacy_model,
                                            settings.nlp_models()),
}


def exit_code(err: BaseException) -> int:
    """The exit status for an error that ends a command, by its type; says it on stderr first."""
    if isinstance(err, ConfigError):
        for line in str(err).splitlines():
            _err(f"newsdesk: {line}")
        return EXIT_USAGE
    if isinstance(err, RunStopped):
        _err(f"newsdesk: {err}; run Cancelled")
        stopping.leave(stopping.exit_code(err.signal))
    if isinstance(err, KeyboardInterrupt):
        _err(f"newsdesk: interrupted ({stopping.stop_reason(err)})")
        return stopping.exit_code(stopping.stop_reason(err))
    _err(f"newsdesk: {err}")
    return EXIT_USAGE if isinstance(err, NotInstalled) else EXIT_FAILED  # RunFailed and every other NewsdeskError: 3


def main(argv: list[str] | None = None) -> int:
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(logging.WARNING)  # the run's INFO lines go to the Prefect server (the UI's Logs tab)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", handlers=[terminal])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command not in COMMANDS:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](load_settings(args.config, **setting_overrides(args)), args)
    except (NewsdeskError, KeyboardInterrupt) as err:
        return exit_code(err)


if __name__ == "__main__":
    sys.exit(main())
