"""`newsdesk`: a thin command line over the flows and the warehouse.

Data goes to stdout; messages and progress to stderr. Exit 0 when all went
well, 1 when some inputs were rejected (or a query failed), 2 for a usage or
configuration error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Any

from flows import stopping
from flows.prefect_api import choose_api, run_link
from flows.settings import ConfigError, Settings, configure_prefect_environment, load_settings
from flows.states import EXIT_FAILED, RunFailed, RunStopped, exit_status, run_result
from transforms.errors import NewsdeskError, PermanentError

EXIT_OK, EXIT_REJECTS, EXIT_USAGE = 0, 1, 2

EXAMPLE_QUERIES = {
    "Who is quoted, and about whom": (
        "SELECT speaker, about, quotes FROM quotes_about ORDER BY quotes DESC, speaker, about LIMIT 10"
    ),
    "Most-mentioned entities": (
        "SELECT e.name, e.type, count(*) AS mentions FROM current_mentions m "
        "JOIN entities e USING (entity_id) GROUP BY ALL ORDER BY mentions DESC, e.name LIMIT 10"
    ),
}
QUERIES_DIR = Path(__file__).resolve().parent.parent / "warehouse" / "queries"


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsdesk",
        description="News ETL: seeds, feeds and sitemaps -> clean text, entities and quotes -> DuckDB.",
        epilog="example: newsdesk run && newsdesk sql \"SELECT * FROM most_quoted_speakers\"",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="settings file (default: ./newsdesk.toml if present)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="ingest the seeds (and configured sources) once, in-process",
                         description="Run the ingest-news flow once, in-process (no Prefect server needed).",
                         epilog="example: newsdesk run --seeds seeds --warehouse warehouse/newsdesk.duckdb")
    run.add_argument("--seeds", type=Path, help="folder of seed articles (.txt, .md, .html, .html.gz)")
    run.add_argument("--warehouse", type=Path, help="DuckDB file to load (created if missing)")
    run.add_argument("--lake", help="Parquet lake folder or fsspec URL")
    run.add_argument("--model", dest="spacy_model", help="spaCy pipeline name")
    run.add_argument("--workers", type=int, help="processes for the NLP stage (default: CPU count)")
    run.add_argument("--batch-size", type=int, help="articles per task batch")
    run.add_argument("--force", action="store_true", help="re-process inputs even when unchanged (web pages are fetched again in full)")
    run.add_argument("--dask-address", help="run the flow's tasks on this Dask scheduler (tcp://host:8786)")
    run.add_argument("--feed", action="append", default=[], metavar="URL", help="an RSS/Atom/JSON feed to ingest (repeatable)")
    run.add_argument("--sitemap", action="append", default=[], metavar="URL", help="a sitemap or sitemap index (repeatable)")
    run.add_argument("--url", action="append", default=[], metavar="URL", help="an article URL (repeatable)")
    run.add_argument("--urls-file", type=Path, help="a file with one article URL per line")
    run.add_argument("--no-seeds", action="store_true", help="ingest only the web sources")
    run.add_argument("--allow-private", action="store_true",
                     help="allow fetching private and loopback addresses (off by default, for safety)")

    serve = sub.add_parser("serve", help="serve ingest-news as scheduled deployments (needs a Prefect server)",
                           description="Register ingest-news deployments on the cron schedules of newsdesk.toml "
                                       "and run them as they come due, until stopped (Ctrl-C or SIGTERM).",
                           epilog="example: make server  # in another terminal\n"
                                  "         PREFECT_API_URL=http://127.0.0.1:4200/api newsdesk serve")
    serve.add_argument("--seeds", type=Path, help="folder of seed articles")
    serve.add_argument("--warehouse", type=Path, help="DuckDB file")

    rex = sub.add_parser("reextract", help="rebuild articles, entities and quotes from the raw store (no network)",
                         description="Re-run extraction, entities and quotes on every stored raw body and seed, "
                                     "without fetching. New extraction code gives new article versions.",
                         epilog="example: newsdesk reextract --warehouse warehouse/newsdesk.duckdb")
    rex.add_argument("--seeds", type=Path, help="folder of seed articles")
    rex.add_argument("--warehouse", type=Path, help="DuckDB file")
    rex.add_argument("--lake", help="Parquet lake folder or fsspec URL")
    rex.add_argument("--model", dest="spacy_model", help="spaCy pipeline name")
    rex.add_argument("--workers", type=int, help="processes for the CPU stages")

    sql = sub.add_parser("sql", help="query the warehouse and print a table",
                         description="Run SQL against the warehouse (read-only) and print the result.",
                         epilog='example: newsdesk sql "SELECT * FROM most_quoted_speakers LIMIT 5"\n'
                                "         newsdesk sql --file who_is_quoted")
    sql.add_argument("query", nargs="?", help="the SQL to run")
    sql.add_argument("--file", help="a .sql file, or the name of one in warehouse/queries/")
    sql.add_argument("--warehouse", type=Path, help="DuckDB file")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")

    ev = sub.add_parser("eval", help="score a stage on labelled data",
                        description="Score extraction, entities or quotes on labelled data.",
                        epilog="example: newsdesk eval quotes ../shared/data/polnear/dev.jsonl.gz --json")
    ev.add_argument("stage", choices=["extraction", "entities", "quotes"])
    ev.add_argument("paths", nargs="+", type=Path)
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.add_argument("--limit", type=int, help="score only the first N documents")
    ev.add_argument("--model", dest="spacy_model", help="spaCy pipeline name")
    for command in sub.choices.values():  # the examples are shown as written, never re-wrapped mid-command
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _print_table(names: list[str], rows: list[tuple[Any, ...]], fmt: str = "table") -> None:
    if fmt == "json":
        print(json.dumps([dict(zip(names, row)) for row in rows], default=str, ensure_ascii=False, indent=1))
        return
    if fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*names, show_lines=False)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(width=max(100, min(200, 30 * len(names)))).print(table)


def command_line_sources(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Sources given as flags, in the shape of newsdesk.toml's [[sources]] tables."""
    sources: list[dict[str, Any]] = []
    for i, url in enumerate(args.feed):
        sources.append({"name": f"cli-feed-{i + 1}", "kind": "feed", "url": url})
    for i, url in enumerate(args.sitemap):
        sources.append({"name": f"cli-sitemap-{i + 1}", "kind": "sitemap", "url": url})
    if args.url:
        sources.append({"name": "cli-urls", "kind": "urls", "urls": list(args.url)})
    if args.urls_file:
        if not args.urls_file.exists():
            raise ConfigError(f"URL list {args.urls_file} does not exist")
        sources.append({"name": f"file-{args.urls_file.stem}", "kind": "urls", "file": str(args.urls_file)})
    return sources


def flow_parameters(settings: Settings, force: bool = False) -> dict[str, Any]:
    """The ingest-news parameters a run or a deployment gets from the settings."""
    from flows.sources import SourceConfig

    try:
        sources = [SourceConfig(**s).model_dump(mode="json", exclude_none=True) for s in settings.sources]
    except ValueError as err:
        raise ConfigError(f"invalid [[sources]] entry: {str(err).splitlines()[-1].strip()}") from None
    return {
        "seeds": str(settings.seeds) if settings.seeds else "",
        "warehouse": str(settings.warehouse),
        "lake_url": settings.lake,
        "raw": str(settings.raw),
        "spacy_model": settings.spacy_model,
        "batch_size": settings.batch_size,
        "workers": settings.workers,
        "force": force,
        "lock_timeout_s": settings.lock_timeout_s,
        "sources": sources,
        "fetch_options": dataclasses.asdict(settings.fetch),
        "storage_options": settings.storage_options(),
        "max_reject_rate": settings.max_reject_rate,
    }


def dask_threads(address: str) -> int:
    """How many worker threads the Dask cluster at `address` has."""
    from distributed import Client

    try:
        with Client(address, timeout=30) as client:
            return max(1, sum(client.nthreads().values()))
    except OSError as err:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {err}") from None


def cmd_run(settings: Settings, force: bool, reextract: bool = False) -> int:
    configure_prefect_environment()
    stopping.install_handlers()
    stopping.start_lifeline()
    api_url, api_said = choose_api(settings)  # before Prefect is imported
    from flows.ingest import ingest_news
    from warehouse.load import connect, query_table

    params = flow_parameters(settings, force)
    params["reextract"] = reextract
    where = ", ".join(filter(None, [params["seeds"], *[s["name"] for s in params["sources"]]]))
    where_runs = (f"Dask at {settings.dask_address}, " if settings.dask_address else "") + api_said
    _err(f"newsdesk: ingesting {where or 'nothing'} into {settings.warehouse} ({where_runs})")
    flow = ingest_news
    if settings.dask_address:
        from prefect_dask import DaskTaskRunner

        # Each task is one batch on one Dask worker thread: no process pool inside the task,
        # and enough batches in flight to keep every worker thread of the cluster busy.
        params["workers"] = 1
        params["in_flight"] = 2 * dask_threads(settings.dask_address)
        flow = ingest_news.with_options(task_runner=DaskTaskRunner(address=settings.dask_address))
    state = flow(**params, return_state=True)
    if api_url and state.state_details.flow_run_id:
        _err(f"newsdesk: run in the Prefect UI: {run_link(api_url, str(state.state_details.flow_run_id))}")
    result = run_result(state)  # raises on a wrong configuration (exit 2), a stop or a failure (exit 3)
    counts = result["counts"]
    print(f"run {result['run_id']}: {counts.get('articles', 0)} articles extracted from "
          f"{counts.get('documents', 0)} new or changed documents ({counts.get('unchanged', 0)} unchanged: "
          f"{counts.get('not_modified', 0)} answered 304, {counts.get('not_requested', 0)} not requested as their "
          f"sitemap <lastmod> is older; {counts.get('rejected', 0)} rejected)")
    print("rows added (total in warehouse):")
    for table, total in result["totals"].items():
        print(f"  {table:<15} +{result['added'].get(table, 0):<6} ({total})")
    for reject in result["rejects"]:
        print(f"  rejected {reject['uri']} [{reject['stage']}:{reject['reason']}] {reject['message']}")
    con = connect(settings.warehouse, settings.lock_timeout_s)
    try:
        for title, query in EXAMPLE_QUERIES.items():
            print(f"\n{title}:\n  newsdesk sql \"{query}\"")
            names, rows = query_table(con, query + "")
            _print_table(names, rows[:5])
    finally:
        con.close()
    if state.is_failed():
        _err(f"newsdesk: run failed: {state.message}")
    return exit_status(state)


def _resolve_query_file(name: str) -> Path:
    path = Path(name)
    if path.exists():
        return path
    candidate = QUERIES_DIR / (name if name.endswith(".sql") else f"{name}.sql")
    if candidate.exists():
        return candidate
    known = ", ".join(sorted(p.stem for p in QUERIES_DIR.glob("*.sql")))
    raise ConfigError(f"no query file {name!r}; named queries: {known}")


def cmd_sql(settings: Settings, query: str | None, file: str | None, fmt: str) -> int:
    import duckdb

    from warehouse.load import connect, query_table

    if file:
        query = _resolve_query_file(file).read_text(encoding="utf-8")
    if not query:
        raise ConfigError("give a query or --file (see newsdesk sql --help)")
    con = connect(settings.warehouse, settings.lock_timeout_s, read_only=True,
                  on_wait=lambda waiting: _err(f"newsdesk sql: {waiting}"))
    try:
        names, rows = query_table(con, query)
    except duckdb.Error as err:
        _err(f"newsdesk sql: {str(err).splitlines()[0]}")
        return EXIT_REJECTS
    finally:
        con.close()
    _print_table(names, rows, fmt)
    return EXIT_OK


def cmd_eval(stage: str, paths: list[Path], as_json: bool, limit: int | None, model: str) -> int:
    for path in paths:
        if not path.exists():
            raise ConfigError(f"{path} does not exist")
    if stage == "quotes":
        from bench.eval_quotes import evaluate_quotes, render_quotes

        results = [evaluate_quotes(p, model=model, limit=limit) for p in paths]
        text = "\n".join(render_quotes(r) for r in results)
    elif stage == "entities":
        from bench.eval_entities import evaluate_entities, render_entities

        results = [evaluate_entities(paths, model=model, limit=limit)]
        text = render_entities(results[0])
    else:
        from bench.eval_extraction import evaluate_extraction, render_extraction

        results = [evaluate_extraction(p, limit=limit) for p in paths]
        text = "\n".join(render_extraction(r) for r in results)
    print(json.dumps(results if len(results) > 1 else results[0], indent=1, default=str) if as_json else text)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(logging.WARNING)  # the run's INFO lines go to the Prefect server (the UI's Logs tab)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", handlers=[terminal])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        overrides = {k: getattr(args, k, None) for k in ("seeds", "warehouse", "lake", "spacy_model", "workers",
                                                          "batch_size", "dask_address")}
        settings = load_settings(args.config, **overrides)
        if args.command == "run":
            extra = command_line_sources(args)
            if extra or args.no_seeds or args.allow_private:
                settings = settings.model_copy(update={
                    "sources": settings.sources + extra,
                    "seeds": None if args.no_seeds else settings.seeds,
                    "fetch": dataclasses.replace(settings.fetch, allow_private=True) if args.allow_private
                    else settings.fetch,
                })
            return cmd_run(settings, args.force)
        if args.command == "serve":
            from flows.serve import serve_deployments

            serve_deployments(settings)
            return EXIT_OK
        if args.command == "reextract":
            return cmd_run(settings, True, reextract=True)
        if args.command == "sql":
            return cmd_sql(settings, args.query, args.file, args.format)
        if args.command == "eval":
            return cmd_eval(args.stage, args.paths, args.json, args.limit, settings.spacy_model)
    except ConfigError as err:
        _err(f"newsdesk: {err}")
        return EXIT_USAGE
    except RunStopped as err:
        _err(f"newsdesk: {err}; run Cancelled")
        stopping.leave(stopping.exit_code(err.reason))
    except RunFailed as err:
        _err(f"newsdesk: {err}")
        return EXIT_FAILED
    except PermanentError as err:
        _err(f"newsdesk: {err}")
        return EXIT_USAGE if "not installed" in str(err) else EXIT_REJECTS
    except NewsdeskError as err:
        _err(f"newsdesk: {err}")
        return EXIT_REJECTS
    except KeyboardInterrupt as err:
        _err(f"newsdesk: interrupted ({stopping.stop_reason(err)})")
        return stopping.exit_code(stopping.stop_reason(err))
    parser.print_help(sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
