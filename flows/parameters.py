"""The ingest-news flow's parameters, from the settings and the command line's sources and flags.

`newsdesk run` and every `newsdesk serve` deployment start the flow from `flow_parameters`;
`run_settings` folds `newsdesk run`'s own flags (--feed, --url, --warc, --no-seeds,
--allow-network ...) into the settings first.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from flows.fetch_options import FetchOptions
from flows.settings import Settings
from transforms.errors import ConfigError

# The flags that override a setting of the same name (CLI flag > NEWSDESK_* > newsdesk.toml > default).
SETTING_FLAGS = ("seeds", "warehouse", "lake", "spacy_model", "workers", "batch_size", "dask_address")


def setting_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags to this command (None where not given)."""
    return {key: getattr(args, key, None) for key in SETTING_FLAGS}


def run_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings of `newsdesk run`: its sources given as flags added, --no-seeds and --allow-* applied."""
    extra = command_line_sources(args)
    if not (extra or args.no_seeds or args.allow_private or args.allow_network):
        return settings
    return settings.model_copy(update={
        "sources": settings.sources + extra,
        "seeds": None if args.no_seeds else settings.seeds,
        "fetch": with_allowed_networks(settings.fetch, args.allow_network, args.allow_private),
    })


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


def with_allowed_networks(fetch: FetchOptions, networks: list[str], allow_private: bool) -> FetchOptions:
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
    from pydantic import ValidationError

    from flows.config_checks import validation_lines
    from flows.sources import SourceConfig

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
