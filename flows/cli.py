"""`newsdesk`: a thin command line over the flows and the warehouse.

Data goes to stdout; messages and progress to stderr. Exit statuses mean one
thing each (EXIT_STATUSES): 0 all loaded, 1 loaded with some inputs rejected,
2 a usage or configuration error (nothing was done), 3 the run failed (nothing,
or not everything, was loaded).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

from flows import stopping
from flows.prefect_api import choose_api, run_link
from flows.settings import Settings, configure_prefect_environment, load_settings
from flows.states import EXIT_FAILED, RunFailed, RunStopped, exit_status, run_result
from transforms.errors import ConfigError, NewsdeskError, NotInstalled, PermanentError

EXIT_OK, EXIT_REJECTS, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
EXIT_STATUSES = ("exit status: 0 all loaded; 1 loaded, with some inputs rejected (see the rejects table); "
                 "2 usage or configuration error, nothing done; 3 the run failed, nothing or not everything loaded")

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
        epilog="example: newsdesk run && newsdesk sql \"SELECT * FROM most_quoted_speakers\"\n" + EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="settings file (default: ./newsdesk.toml if present)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="ingest the seeds (and configured sources) once, in-process",
                         description="Run the ingest-news flow once, in-process (no Prefect server needed).",
                         epilog="example: newsdesk run --seeds seeds --warehouse warehouse/newsdesk.duckdb\n" + EXIT_STATUSES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--seeds", type=Path, help="folder of seed articles (.txt, .md, .html, .html.gz)")
    run.add_argument("--warehouse", help="DuckDB file to load (created if missing), or ducklake:postgres:...")
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
    run.add_argument("--warc", action="append", default=[], metavar="PATH_OR_URL",
                     help="a WARC file (.warc, .warc.gz): a path, a glob, an s3:// or https:// URL (repeatable)")
    run.add_argument("--warc-list", type=Path, metavar="FILE", help="a file listing WARC files, one path or URL per line")
    run.add_argument("--warc-allow", action="append", default=[], metavar="REGEX",
                     help="keep only WARC records whose URL matches (repeatable; e.g. '^https://[^/]*\\.bbc\\.co\\.uk/')")
    run.add_argument("--warc-deny", action="append", default=[], metavar="REGEX", help="drop WARC records whose URL matches")
    run.add_argument("--warc-since", metavar="DATE", help="keep WARC records whose WARC-Date is on or after DATE")
    run.add_argument("--warc-until", metavar="DATE", help="keep WARC records whose WARC-Date is before DATE")
    run.add_argument("--max-records", type=int, metavar="N", help="read at most N WARC records into documents this run")
    run.add_argument("--no-seeds", action="store_true", help="ingest only the web sources")
    run.add_argument("--allow-network", action="append", default=[], metavar="CIDR",
                     help="also fetch from this non-public network, e.g. 127.0.0.1/32 for a local test site (repeatable)")
    run.add_argument("--allow-private", action="store_true",
                     help="allow loopback and private ranges, never link-local or cloud metadata (prefer --allow-network)")

    serve = sub.add_parser("serve", help="serve ingest-news as scheduled deployments (needs a Prefect server)",
                           description="Register ingest-news deployments on the cron schedules of newsdesk.toml "
                                       "and run them as they come due, until stopped (Ctrl-C or SIGTERM).",
                           epilog="example: make server  # in another terminal\n"
                                  "         PREFECT_API_URL=http://127.0.0.1:4200/api newsdesk serve")
    serve.add_argument("--seeds", type=Path, help="folder of seed articles")
    serve.add_argument("--warehouse", help="DuckDB file or ducklake:... catalog")

    rex = sub.add_parser("reextract", help="rebuild articles, entities and quotes from the raw store (no network)",
                         description="Re-run extraction, entities and quotes on every stored raw body and seed, "
                                     "without fetching. New extraction code gives new article versions.",
                         epilog="example: newsdesk reextract --warehouse warehouse/newsdesk.duckdb")
    rex.add_argument("--seeds", type=Path, help="folder of seed articles")
    rex.add_argument("--warehouse", help="DuckDB file or ducklake:... catalog")
    rex.add_argument("--lake", help="Parquet lake folder or fsspec URL")
    rex.add_argument("--model", dest="spacy_model", help="spaCy pipeline name")
    rex.add_argument("--workers", type=int, help="processes for the CPU stages")

    pending = sub.add_parser("load-pending", help="load the runs a busy warehouse left pending in the lake",
                             description="Load the runs whose results are in the lake but could not be loaded "
                                         "because another process held the warehouse (newsdesk run does this "
                                         "first anyway).",
                             epilog="example: newsdesk load-pending --warehouse warehouse/newsdesk.duckdb")
    pending.add_argument("--warehouse", type=Path, help="DuckDB file")
    pending.add_argument("--lake", help="Parquet lake folder or fsspec URL")

    sql = sub.add_parser("sql", help="query the warehouse and print a table",
                         description="Run SQL against the warehouse (read-only) and print the result.",
                         epilog='example: newsdesk sql "SELECT * FROM most_quoted_speakers LIMIT 5"\n'
                                "         newsdesk sql --file who_is_quoted")
    sql.add_argument("query", nargs="?", help="the SQL to run")
    sql.add_argument("--file", help="a .sql file, or the name of one in warehouse/queries/")
    sql.add_argument("--warehouse", help="DuckDB file or ducklake:... catalog")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sql.add_argument("--at", metavar="SNAPSHOT|TIMESTAMP",
                     help="DuckLake only: query the warehouse as it was at this snapshot id or time (UTC)")

    mig = sub.add_parser("migrate", help="copy the warehouse into another backend (DuckDB file <-> DuckLake)",
                         description="Copy every table of the configured warehouse into another one, merging on "
                                     "each table's key (a re-run adds nothing), then check row counts and keys.",
                         epilog='example: newsdesk migrate --to "ducklake:postgres:dbname=newsdesk host=127.0.0.1"\n'
                                "         newsdesk migrate --warehouse ducklake:sqlite:lake.sqlite --to copy.duckdb")
    mig.add_argument("--to", required=True, help="the target: a DuckDB file or a ducklake:... catalog")
    mig.add_argument("--warehouse", help="the source (default: the configured warehouse)")
    mig.add_argument("--lake", help="Parquet lake folder or fsspec URL (DuckLake data go under <lake>/ducklake/)")

    search = sub.add_parser("search", help="full-text search (BM25) over the articles' titles and text",
                            description="Rank the current articles by BM25 over title and text; print title, site, "
                                        "date and a snippet with the matched words in [brackets].",
                            epilog='example: newsdesk search "ceasefire talks" --since 2025-01-01 --limit 5\n'
                                   '         newsdesk search putin --entity China --format json')
    search.add_argument("query", help="words to look for")
    search.add_argument("--since", help="only articles published (else loaded) on or after this date (YYYY-MM-DD)")
    search.add_argument("--entity", help="only articles that mention this entity (name or alias)")
    search.add_argument("--speaker", help="only articles that quote this speaker")
    search.add_argument("--limit", type=int, default=10, help="at most this many hits (default 10)")
    search.add_argument("--warehouse", type=Path, help="DuckDB file")
    search.add_argument("--format", choices=["table", "csv", "json"], default="table")

    ev = sub.add_parser("eval", help="score a stage on labelled data",
                        description="Score extraction, entities, quotes, duplicates or language identification on labelled data.",
                        epilog="example: newsdesk eval quotes ../shared/data/polnear/dev.jsonl.gz --json\n"
                               "         newsdesk eval duplicates ../shared/data")
    ev.add_argument("stage", choices=["extraction", "entities", "quotes", "duplicates", "language"])
    ev.add_argument("paths", nargs="+", type=Path)
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.add_argument("--limit", type=int, help="score only the first N documents")
    ev.add_argument("--model", dest="spacy_model", help="spaCy pipeline name")
    for command in sub.choices.values():  # the examples are shown as written, never re-wrapped mid-command
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _print_table(names: list[str], rows: list[tuple[Any, ...]], fmt: str = "table") -> None:
    from flows.terminal import print_table

    print_table(names, rows, fmt)


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
    if args.warc or args.warc_list:
        sources.append(warc_source(args))
    return sources


def with_allowed_networks(fetch: Any, networks: list[str], allow_private: bool) -> Any:
    """The [fetch] settings with --allow-network CIDRs added (and --allow-private)."""
    try:
        return dataclasses.replace(fetch, allowed_networks=tuple(fetch.allowed_networks) + tuple(networks),
                                   allow_private=fetch.allow_private or allow_private)
    except ValueError as err:
        raise ConfigError(f"--allow-network: {err}") from None


def warc_source(args: argparse.Namespace) -> dict[str, Any]:
    """The `kind = "warc"` source that --warc/--warc-list and the record filters describe."""
    if args.warc_list is not None and not args.warc_list.exists():
        raise ConfigError(f"WARC list {args.warc_list} does not exist")
    source: dict[str, Any] = {"name": "cli-warc", "kind": "warc", "urls": list(args.warc), "allow": args.warc_allow,
                              "deny": args.warc_deny}
    if args.warc_list is not None:
        source["file"] = str(args.warc_list)
    optional = {"since": args.warc_since, "until": args.warc_until, "max_records": args.max_records}
    return {**source, **{k: v for k, v in optional.items() if v is not None}}


def flow_parameters(settings: Settings, force: bool = False) -> dict[str, Any]:
    """The ingest-news parameters a run or a deployment gets from the settings."""
    from flows.sources import SourceConfig

    from pydantic import ValidationError

    from flows.config_checks import validation_lines

    sources, problems = [], []
    for number, source in enumerate(settings.sources, start=1):
        try:
            sources.append(SourceConfig(**source).model_dump(mode="json", exclude_none=True))
        except ValidationError as err:
            name = source.get("name") if isinstance(source, dict) else None
            problems += [f"{line} (in [[sources]] entry {number}{f' {name!r}' if name else ''} of newsdesk.toml)"
                         for line in validation_lines(err, "sources.")]
        except ValueError as err:
            problems.append(f"invalid [[sources]] entry {number}: {str(err).splitlines()[-1].strip()}")
    if problems:
        raise ConfigError("\n".join(problems))
    return {
        "seeds": str(settings.seeds) if settings.seeds else "",
        "warehouse": str(settings.warehouse),
        "lake_url": settings.lake,
        "raw": str(settings.raw),
        "spacy_model": settings.spacy_model,
        "nlp_models": settings.nlp_models(),
        "batch_size": settings.batch_size,
        "workers": settings.workers,
        "force": force,
        "lock_timeout_s": settings.lock_timeout_s,
        "document_budget_s": settings.document_budget_s,
        "sources": sources,
        "fetch_options": dataclasses.asdict(settings.fetch),
        "storage_options": settings.storage_options(),
        "warc_storage_options": settings.warc_storage_options(),
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
    from flows.config_checks import check_run_settings
    from flows.terminal import escape_controls

    check_run_settings(settings)  # every bad setting named before any work (exit 2)
    configure_prefect_environment()
    stopping.install_handlers()
    stopping.start_lifeline()
    api_url, api_said = choose_api(settings)  # before Prefect is imported
    from flows.ingest import ingest_news
    from warehouse.backend import connect, describe
    from warehouse.load import query_table

    params = flow_parameters(settings, force)
    params["reextract"] = reextract
    where = ", ".join(filter(None, [params["seeds"], *[s["name"] for s in params["sources"]]]))
    where_runs = (f"Dask at {settings.dask_address}, " if settings.dask_address else "") + api_said
    _err(f"newsdesk: ingesting {where or 'nothing'} into {describe(settings.warehouse)} ({where_runs})")
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
    if counts.get("deferred"):
        print(f"{counts['deferred']} URLs deferred: the fetch budget (fetch.budget_s) ran out; the next run fetches them first")
    print("rows added (total in warehouse):")
    for table, total in result["totals"].items():
        print(f"  {table:<15} +{result['added'].get(table, 0):<6} ({total})")
    for reject in result["rejects"]:
        print(escape_controls(f"  rejected {reject['uri']} [{reject['stage']}:{reject['reason']}] {reject['message']}"))
    con = connect(settings.warehouse, settings.lock_timeout_s, lake=settings.lake,
                  storage_options=settings.storage_options())
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


def cmd_load_pending(settings: Settings) -> int:
    from warehouse.pending import load_pending_runs

    loaded = load_pending_runs(settings.warehouse, settings.lake, settings.storage_options(), settings.lock_timeout_s)
    for run_id in loaded:
        print(f"loaded pending run {run_id}")
    if not loaded:
        _err(f"newsdesk: no pending runs for {settings.warehouse} in {settings.lake}")
    return EXIT_OK


def _resolve_query_file(name: str) -> Path:
    path = Path(name)
    if path.exists():
        return path
    candidate = QUERIES_DIR / (name if name.endswith(".sql") else f"{name}.sql")
    if candidate.exists():
        return candidate
    known = ", ".join(sorted(p.stem for p in QUERIES_DIR.glob("*.sql")))
    raise ConfigError(f"no query file {name!r}; named queries: {known}")


def cmd_sql(settings: Settings, query: str | None, file: str | None, fmt: str, at: str | None = None) -> int:
    import duckdb

    from warehouse.backend import connect, is_lakehouse
    from warehouse.load import OFFLINE, query_table

    if at and not is_lakehouse(settings.warehouse):
        raise ConfigError("--at needs a DuckLake warehouse (ducklake:...); a DuckDB file keeps only its current state")
    if file:
        query = _resolve_query_file(file).read_text(encoding="utf-8")
    if not query:
        raise ConfigError("give a query or --file (see newsdesk sql --help)")
    if not is_lakehouse(settings.warehouse) and not Path(settings.warehouse).exists():
        raise ConfigError(f"no warehouse at {settings.warehouse}: run `newsdesk run` first, or give --warehouse")
    try:
        con = connect(settings.warehouse, settings.lock_timeout_s, read_only=True, lake=settings.lake,
                      storage_options=settings.storage_options(), at=at, config=OFFLINE,
                      on_wait=lambda waiting: _err(f"newsdesk sql: {waiting}"))
    except PermanentError as err:  # no such warehouse or snapshot: what to query is wrong (exit 2)
        raise ConfigError(str(err)) from None
    try:
        names, rows = query_table(con, query)
    except duckdb.Error as err:
        from flows.terminal import escape_controls

        _err(f"newsdesk sql: {escape_controls(str(err).splitlines()[0])}")
        return EXIT_USAGE
    finally:
        con.close()
    _print_table(names, rows, fmt)
    return EXIT_OK


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    from warehouse.backend import connect
    from warehouse.search import hits_table, query_search

    if args.since:
        try:
            date.fromisoformat(args.since)
        except ValueError:
            raise ConfigError(f"--since {args.since!r} is not a date: give it as YYYY-MM-DD") from None
    con = connect(settings.warehouse, settings.lock_timeout_s, read_only=True, lake=settings.lake,
                  storage_options=settings.storage_options())
    try:
        hits = query_search(con, args.query, args.since, args.entity, args.speaker, args.limit)
    finally:
        con.close()
    _print_table(*hits_table(hits), args.format)
    return EXIT_OK


def cmd_migrate(settings: Settings, target: str) -> int:
    from warehouse.backend import describe
    from warehouse.migrate import migrate_warehouse

    _err(f"newsdesk: copying {describe(settings.warehouse)} into {describe(target)}")
    report = migrate_warehouse(settings.warehouse, target, settings.lake, settings.storage_options(),
                               settings.lock_timeout_s)
    for table, (source_rows, target_rows, added) in report.items():
        print(f"  {table:<15} {source_rows:>8} rows, +{added} copied, {target_rows} in the target, keys equal")
    return EXIT_OK


def cmd_eval(stage: str, paths: list[Path], as_json: bool, limit: int | None, model: str,
             models: dict[str, str] | None = None) -> int:
    for path in paths:
        if not path.exists():
            raise ConfigError(f"{path} does not exist")
    if stage == "language":
        from bench.eval_language import evaluate_language, render_language

        try:
            results = [evaluate_language(p, models) for p in paths]
        except (ValueError, KeyError) as err:
            raise ConfigError(f"not a labelled language file: {err}") from None
        text = "\n".join(render_language(r) for r in results)
    elif stage == "quotes":
        from bench.eval_quotes import evaluate_quotes, render_quotes

        results = [evaluate_quotes(p, model=model, limit=limit) for p in paths]
        text = "\n".join(render_quotes(r) for r in results)
    elif stage == "duplicates":
        from bench.eval_duplicates import evaluate_duplicates, render_duplicates

        results = [evaluate_duplicates(p) for p in paths]
        text = "\n".join(render_duplicates(r) for r in results)
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
            if extra or args.no_seeds or args.allow_private or args.allow_network:
                settings = settings.model_copy(update={
                    "sources": settings.sources + extra,
                    "seeds": None if args.no_seeds else settings.seeds,
                    "fetch": with_allowed_networks(settings.fetch, args.allow_network, args.allow_private),
                })
            return cmd_run(settings, args.force)
        if args.command == "serve":
            from flows.serve import serve_deployments

            serve_deployments(settings)
            return EXIT_OK
        if args.command == "reextract":
            return cmd_run(settings, True, reextract=True)
        if args.command == "load-pending":
            return cmd_load_pending(settings)
        if args.command == "sql":
            return cmd_sql(settings, args.query, args.file, args.format, args.at)
        if args.command == "search":
            return cmd_search(settings, args)
        if args.command == "migrate":
            return cmd_migrate(settings, args.to)
        if args.command == "eval":
            return cmd_eval(args.stage, args.paths, args.json, args.limit, settings.spacy_model, settings.nlp_models())
    except ConfigError as err:
        for line in str(err).splitlines():
            _err(f"newsdesk: {line}")
        return EXIT_USAGE
    except RunStopped as err:
        _err(f"newsdesk: {err}; run Cancelled")
        stopping.leave(stopping.exit_code(err.signal))
    except RunFailed as err:
        _err(f"newsdesk: {err}")
        return EXIT_FAILED
    except NotInstalled as err:
        _err(f"newsdesk: {err}")
        return EXIT_USAGE
    except NewsdeskError as err:
        _err(f"newsdesk: {err}")
        return EXIT_FAILED
    except KeyboardInterrupt as err:
        _err(f"newsdesk: interrupted ({stopping.stop_reason(err)})")
        return stopping.exit_code(stopping.stop_reason(err))
    parser.print_help(sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
