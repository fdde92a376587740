"""A source's `languages` filter (transforms.language.split_by_language, flows.sources.SourceConfig)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flows.sources import SourceConfig
from transforms.language import split_by_language
from transforms.models import Article


def _article(uri: str, language: str | None) -> Article:
    return Article(article_id=uri, content_hash="h", uri=uri, source="warc", text="text", language=language)


def test_articles_outside_their_sources_languages_are_left_out() -> None:
    articles = [_article("a", "fr"), _article("b", "en"), _article("c", None), _article("d", "de")]
    kept, left = split_by_language(articles, {"a": ("fr",), "b": ("fr",), "c": ("fr",)})
    assert [a.uri for a in kept] == ["a", "d"]  # d's source has no filter
    assert [a.uri for a in left] == ["b", "c"]  # an undetermined language is not a wanted one


def test_no_filter_keeps_everything() -> None:
    articles = [_article("a", "fr"), _article("b", None)]
    assert split_by_language(articles, {}) == (articles, [])


def test_languages_are_normalised_to_iso_639_1_and_nonsense_is_refused() -> None:
    source = SourceConfig(name="s", kind="warc", urls=("a.warc",), languages=("en-US", "French", "deu"))
    assert source.languages == ("en", "fr", "de")
    with pytest.raises(ValidationError, match="not a language"):
        SourceConfig(name="s", kind="warc", urls=("a.warc",), languages=("utf-8",))
