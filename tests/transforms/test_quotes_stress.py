"""Quote extraction stays linear on adversarial text: unbalanced marks of every kind, 16 KB to 256 KB.

Times are compared within one run (a ratio), never against a fixed number: linear work
grows 16-fold from 16 KB to 256 KB, the old per-character loop grew over 200-fold. Each
size's figure is the least of three runs' CPU time of this thread with the collector paused,
so other threads of the test process and a loaded machine do not enter the ratio.
`python -m bench.quote_stress` prints the figures up to 1 MB.
"""

from __future__ import annotations

import pytest

from bench.quote_stress import PATTERNS, adversarial_doc, time_quotes
from transforms.quotes import extract_quotes


@pytest.mark.slow
@pytest.mark.parametrize("pattern", PATTERNS)
def test_quote_time_grows_about_linearly(nlp, pattern: str) -> None:  # type: ignore[no-untyped-def]
    (small, _, _, t_small), (large, _, quotes, t_large) = time_quotes(nlp, [16_000, 256_000], pattern, repeats=3)
    assert quotes > 0
    growth = (t_large / max(t_small, 1e-3)) / (large / small)
    assert growth < 3.0, f"{pattern}: time grew {t_large / t_small:.0f}-fold for {large / small:.0f}-fold text"


@pytest.mark.parametrize("pattern", PATTERNS)
def test_adversarial_quotes_slice_their_text(nlp, pattern: str) -> None:  # type: ignore[no-untyped-def]
    doc, article = adversarial_doc(nlp, 4_000, pattern=pattern)
    for quote in extract_quotes(doc, article, []):
        assert article.text[quote.start : quote.end] == quote.text
        if quote.cue_start is not None:
            assert article.text[quote.cue_start : quote.cue_end] == quote.cue
