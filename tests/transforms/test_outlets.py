"""The outlet's own name in titles and credits."""

from __future__ import annotations

import pytest

from transforms.outlets import outlet_like, site_keys, site_words, strip_site_suffix


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Ferry operator fined | Harbour Courier", "Ferry operator fined"),
        ("Harbour Courier - Ferry operator fined", "Ferry operator fined"),
        ("Ferry operator fined » Harbour Courier", "Ferry operator fined"),
        ("Ferry operator fined|Harbour Courier", "Ferry operator fined"),
        # an unspaced "»" closes a «quote»: never a separator, so the quote's word is not cut off
        ("«Harbour»: Ferry operator fined", "«Harbour»: Ferry operator fined"),
        ("Harbour Courier", "Harbour Courier"),  # a title that is only the site's name stays
    ],
)
def test_site_suffixes_are_dropped_and_the_rest_kept_as_written(title: str, expected: str) -> None:
    assert strip_site_suffix(title, site_words("Harbour Courier", "https://www.courier.example/a")) == expected


def test_credits_that_are_the_outlet() -> None:
    keys = site_keys(["DER SPIEGEL"], "https://www.spiegel.de/politik/a")
    assert outlet_like("Der Spiegel", keys) and outlet_like("SPIEGEL", keys)
    assert not outlet_like("Anna Berg", keys) and not outlet_like("dpa", keys)
