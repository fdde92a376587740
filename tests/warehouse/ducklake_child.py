"""A DuckLake run as the flow makes it, in its own process (to be killed): `python ducklake_child.py
<catalog> <lake> <batches.pkl> <run_id>`.

The run row first (`running`), then one commit per batch, then the run row completed; each
commit is announced on stdout (`committed <part>`) as it returns.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from transforms.models import Analysis, RunRecord  # noqa: E402
from warehouse import arrow, backend, ducklake  # noqa: E402


def main(argv: list[str]) -> int:
    catalog, lake_url, batches_file, run_id = argv[1:5]
    with open(batches_file, "rb") as handle:
        batches, started_at = pickle.load(handle)
    run = RunRecord(run_id, started_at)
    con = backend.connect(catalog, lake=lake_url)
    ducklake.begin_run(con, run)
    for part, b in enumerate(batches):
        ducklake.load_batch(con, run, arrow.run_tables(run_id, started_at, b.articles, b.raw_hashes,
                                                      Analysis(b.mentions, b.entities, b.quotes), b.rejects, b.fetches))
        print(f"committed {part}", flush=True)
    ducklake.finish_run(con, RunRecord(run_id, started_at, status="completed"))
    con.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
