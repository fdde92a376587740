"""A batch's chain of tasks after reading: extract -> analyse -> write.

Each task takes the previous one's record and returns its own; a batch that fails as a
whole rejects its documents (the other batches go on), while a dead worker or a wrong
configuration stops the run with its one-line message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture

from flows import report
from flows.batches import passed_whole, run_windowed
from flows.analyse import WorkerDied, analyse_in_pool, extract_in_pool, get_pool
from flows.guard import DEFAULT_BUDGET_S, reject_all, without_rejected
from flows.inputs import Inputs
from flows.known import transient_only
from flows.languages import with_nlp_status
from flows.loading import WarcLoads
from flows.plan import Plan
from flows.run import Run
from transforms.errors import PermanentError
from transforms.language import split_by_language
from transforms.models import Analysis, Article, Entity, Reject
from warehouse import arrow, backend, lake


def run_batches(plan: Plan, warc: WarcLoads) -> report.BatchSummary:
    """Every batch through extract -> analyse -> write, a window of them at a time; the run's merged summary.

    What discovery found before any batch (rejects, fetches) is part 0 of the run.
    """
    run, o, log = plan.run, plan.run.options, get_run_logger()
    summaries = {0: write_batch(run, 0, Extraction(Inputs([], plan.rejects, plan.fetches)), Analysis())}
    progress, n_batches, done = report.Progress(plan.total), plan.n_batches, 0

    def submit(part: int, inputs: PrefectFuture[Inputs]) -> PrefectFuture[report.BatchSummary]:
        if inputs in plan.spans:
            warc.claim(part, plan.spans.pop(inputs))
        extraction = extract_batch.submit(passed_whole(inputs), o.workers, o.spacy_model, o.document_budget_s)
        analysis = analyse_batch.submit(passed_whole(extraction), o.models, passed_whole(plan.known.entities),
                                        o.workers, o.document_budget_s)
        return write_batch.submit(run, part, passed_whole(extraction), passed_whole(analysis))

    def finished(part: int, summary: report.BatchSummary) -> None:
        nonlocal done
        summaries[part] = summary
        done += summary.counts.get("documents", 0) + summary.counts.get("unchanged", 0)
        warc.finished(part)
        log.info("%s", report.batch_line(part, n_batches, summary))
        progress.update(done)

    run_windowed(plan.batches(), submit, o.window, finished)
    merged = report.merge([summaries[part] for part in sorted(summaries)])
    log.info("%s", report.run_line(run.run_id, merged))
    return merged


@dataclass(frozen=True)
class Extraction:
    """A batch's articles, with its inputs and the documents extraction rejected."""

    inputs: Inputs
    articles: list[Article] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    filtered: int = 0  # articles a source's language filter left out


@task(cache_policy=NO_CACHE)
def extract_batch(inputs: Inputs, workers: int, model: str, budget_s: float | None = DEFAULT_BUDGET_S) -> Extraction:
    try:
        pool = get_pool(workers, model) if inputs.documents else None  # an unchanged batch starts no processes
        articles, rejects = extract_in_pool(pool, inputs.documents, budget_s)
    except WorkerDied:
        raise  # a dead worker: the run stops with its one-line message, the next run gets a fresh pool
    except Exception as err:  # noqa: BLE001 - a failed batch rejects its documents; the other batches load
        get_run_logger().exception("extraction failed for a whole batch of %d documents", len(inputs.documents))
        articles, rejects = [], reject_all(inputs.documents, "extract", err)
    kept, left_out = split_by_language(articles, inputs.languages)  # a source's `languages` filter
    return Extraction(inputs, kept, rejects, len(left_out))


@task(cache_policy=NO_CACHE)
def analyse_batch(extraction: Extraction, models: dict[str, str], known: list[Entity], workers: int,
                  budget_s: float | None = DEFAULT_BUDGET_S) -> Analysis:
    """Each article through its language's pipeline (`models`: language -> spaCy pipeline)."""
    try:
        pool = get_pool(workers, models.get("en")) if extraction.articles else None
        return analyse_in_pool(pool, extraction.articles, models, known, budget_s)
    except (PermanentError, WorkerDied):
        raise  # a configuration error, a dead worker: the run stops with its one-line message
    except Exception as err:  # noqa: BLE001 - a failed batch rejects its articles; the other batches load
        get_run_logger().exception("analysis failed for a whole batch of %d articles", len(extraction.articles))
        return Analysis(rejects=reject_all(extraction.articles, "nlp", err))


# Retried on DuckLake's transient errors (the catalog unreachable): the merge on keys makes a retry safe.
@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=transient_only)
def write_batch(run: Run, part: int, extraction: Extraction, analysis: Analysis) -> report.BatchSummary:
    """Write the batch's Parquet part of the run; on DuckLake, commit the batch's rows instead."""
    o, inputs = run.options, extraction.inputs
    raw = arrow.raw_hashes(inputs.documents)
    rejects = inputs.rejects + extraction.rejects + analysis.rejects
    articles = with_nlp_status(without_rejected(extraction.articles, analysis.rejects), analysis.nlp_status)
    tables = arrow.run_tables(run.run_id, run.started_at, articles, raw, analysis, rejects, inputs.fetches)
    if run.lakehouse:
        backend.load_batch(run.lakehouse, o.lake_url, o.storage_options, run.row(), tables)
    else:
        fs, root = lake.lake_filesystem(o.lake_url, o.storage_options)
        lake.write_part(fs, root, run.run_id, part, tables)
    return report.batch_summary(len(inputs.documents), inputs.unchanged, articles, analysis, rejects,
                                inputs.fetches, inputs.not_requested, inputs.filtered + extraction.filtered)
