"""A run's typed options (flows/run.py): what the flow's parameters become."""

from __future__ import annotations

from flows.fetch import FetchOptions
from flows.run import RunOptions
from flows.sources import SourceConfig

WIRES = SourceConfig(name="wires", kind="feed", url="http://127.0.0.1:1/feed.xml", group="wires")
LOCAL = SourceConfig(name="local", kind="sitemap", url="http://127.0.0.1:1/sitemap.xml", group="local")
ARCHIVE = SourceConfig(name="archive", kind="warc", urls=("/tmp/a.warc.gz",), group="wires")
UNGROUPED = SourceConfig(name="plain", kind="urls", urls=("http://127.0.0.1:1/a",))


def test_groups_limit_the_run_to_their_sources() -> None:
    options = RunOptions(sources=(WIRES, LOCAL, ARCHIVE, UNGROUPED), groups=("wires",))
    assert [s.name for s in options.web_sources] == ["wires"]
    assert [s.name for s in options.warc_sources] == ["archive"]


def test_no_groups_is_every_source_split_by_kind() -> None:
    options = RunOptions(sources=(WIRES, LOCAL, ARCHIVE, UNGROUPED))
    assert [s.name for s in options.web_sources] == ["wires", "local", "plain"]
    assert [s.name for s in options.warc_sources] == ["archive"]


def test_reextracting_reads_no_source() -> None:
    options = RunOptions(sources=(WIRES, ARCHIVE), reextract=True)
    assert options.web_sources == [] and options.warc_sources == []


def test_models_and_window_defaults() -> None:
    assert RunOptions(spacy_model="xx_model").models["en"] == "xx_model"
    assert RunOptions(nlp_models={"fr": "fr_model"}).models["fr"] == "fr_model"
    assert RunOptions(workers=1).window == 2 and RunOptions(workers=3).window == 4
    assert RunOptions(workers=3, in_flight=1).window == 1


def test_warc_options_come_from_the_fetch_settings() -> None:
    fetch = FetchOptions(user_agent="ua", timeout_s=3.0, allow_private=True, allowed_networks=("127.0.0.1/32",))
    warc = RunOptions(fetch=fetch, warc_storage_options={"anon": True}).warc_options
    assert (warc.user_agent, warc.timeout_s, warc.allow_private, warc.allowed_networks) == (
        "ua", 3.0, True, ("127.0.0.1/32",))
    assert warc.storage_options == (("anon", True),)
