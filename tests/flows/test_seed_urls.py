"""Saved pages with their URL: a `urls.tsv` next to the seeds gives each page the URL it was fetched from."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from flows.seeds import list_seed_files, read_seed_documents
from transforms.html import extract_html

PAGE = b"""<html><head><title>Council approves the new tram line</title></head><body>
<article><h1>Council approves the new tram line</h1>
<p><a href="/transport/">Transport</a></p>
""" + b"".join(b"<p>The city council approved the tram line on Tuesday after a long debate, its " + str(n).encode()
               + b"th session on the matter. Work starts next spring and should end in two years.</p>"
               for n in range(1, 6)) + b"</article></body></html>"
URL = "https://www.valleytimes.example.com/news/2024/05/03/council-tram-line"


def _seeds(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    (seeds / "saved").mkdir(parents=True)
    (seeds / "saved" / "tram.html").write_bytes(PAGE)
    (seeds / "saved" / "no-url.html").write_bytes(PAGE)
    (seeds / "urls.tsv").write_text(f"# file\turl\nsaved/tram.html\t{URL}\nsaved/no-url.html\tnot a url\n")
    return seeds


def test_a_seed_with_a_url_is_extracted_as_the_fetched_page(tmp_path: Path) -> None:
    seeds = _seeds(tmp_path)
    paths, rejects = list_seed_files(seeds)
    assert rejects == []  # the manifest is not a seed
    documents, _ = read_seed_documents(seeds, paths)
    by_name = {d.uri: d for d in documents}
    assert by_name["saved/tram.html"].url == URL
    assert by_name["saved/no-url.html"].url is None  # the bad line is ignored: today's behaviour

    seed = extract_html(by_name["saved/tram.html"]).article
    fetched = extract_html(replace(by_name["saved/tram.html"], source="url", uri=URL)).article
    assert seed is not None and fetched is not None
    assert seed.url == URL
    assert seed.published_at == fetched.published_at and seed.published_at is not None  # the date in the URL
    assert seed.published_at.startswith("2024-05-03")
    assert (seed.text, seed.title, seed.site_name) == (fetched.text, fetched.title, fetched.site_name)
    without = extract_html(by_name["saved/no-url.html"]).article
    assert without is not None and without.published_at is None and without.url is None
