"""The `newsdesk` command line's arguments: every command, its flags, its help and an example (flows/cli.py runs them)."""

from __future__ import annotations

import argparse
from pathlib import Path

EXIT_STATUSES = ("exit status: 0 all loaded; 1 loaded, with some inputs rejected (see the rejects table); "
                 "2 usage or configuration error, nothing done; 3 the run failed, nothing or not everything loaded")


def build_parser() -> argparse.ArgumentParser:
    """The `newsdesk` command line: every command with its help and an example."""
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
    run.add_argument("--workers", type=int, help="processes for the NLP stage (default: the CPU count, at most 8)")
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
    search.add_argument("--reindex", action="store_true",
                        help="rebuild the search index first (a load rebuilds it once the articles loaded since the "
                             "last build pass 10%% of those in it; until then search scores them from a delta)")

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
