"""The CPU stages give the same rows whether they run in a process pool or in the calling process."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from flows import analyse
from flows.seeds import list_seed_files, read_seed_documents
from tests.conftest import MODEL, SEEDS


def test_pool_and_in_process_give_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    paths, _ = list_seed_files(SEEDS)
    documents, _ = read_seed_documents(SEEDS, paths)
    assert len(documents) >= 4
    # Small chunks, so that the pool really splits the batch (chunking happens in this process).
    monkeypatch.setattr(analyse, "ANALYSE_CHUNK", 2)
    monkeypatch.setattr(analyse, "EXTRACT_CHUNK", 1)

    here_articles, here_rejects = analyse.extract_in_pool(None, documents)
    here = analyse.analyse_in_pool(None, here_articles, MODEL, [])
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"), initializer=analyse._warm,
                             initargs=(MODEL,)) as pool:
        pool_articles, pool_rejects = analyse.extract_in_pool(pool, documents)
        pooled = analyse.analyse_in_pool(pool, pool_articles, MODEL, [])

    assert len(here_articles) >= 4 and here.mentions and here.quotes
    assert pool_articles == here_articles and pool_rejects == here_rejects
    assert pooled.mentions == here.mentions
    assert pooled.entities == here.entities
    assert pooled.quotes == here.quotes
    assert pooled.rejects == here.rejects == []
