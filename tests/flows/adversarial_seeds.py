"""A seeds folder of adversarial inputs, generated at test time, next to good articles.

    python -m tests.flows.adversarial_seeds FOLDER   # write it, e.g. to time `newsdesk run` on it

`write_adversarial_seeds` returns what each file must give: the reject reason
(stage "read" or "extract"), or None for a file that must load as an article.
"""

from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path

from tests.conftest import SEED_TXT

GOOD = """Farmers in the valley report a record harvest

The regional farmers' union said on Monday that the wheat harvest was the largest in a decade.

"We have never seen yields like these," said Maria Keller, who runs a farm near the river. She added that
prices had fallen as a result.

According to the union, storage is now the main worry for the coming months.
"""


def _quote_storm(size: int) -> str:
    """Prose with unbalanced quotation marks of every kind, one paragraph (the old quadratic case)."""
    marks = "“”\"«»„‘’'‚‹›"
    words = ["he said", "the plan", "Smith said", "a 12", "it was", "she told reporters", "5"]
    out, i = [], 0
    while sum(len(w) + 1 for w in out) < size:
        out.append(f"{marks[i % len(marks)]}{words[i % len(words)]}")
        i += 1
    return "A storm of quotation marks\n\n" + " ".join(out) + "\n"


def write_adversarial_seeds(folder: Path, outside: Path) -> dict[str, str | None]:
    """Write the cases under `folder` (and a secret file under `outside`, which must never load)."""
    folder.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str | None] = {}

    def put(name: str, data: bytes, reason: str | None) -> None:
        (folder / name).write_bytes(data)
        expected[name] = reason

    put("good.txt", GOOD.encode("utf-8"), None)
    put("seed_copy.txt", SEED_TXT.read_bytes(), None)
    # a file name that is not UTF-8: loads, shown escaped
    (folder / os.fsdecode(b"caf\xe9.txt")).write_bytes(GOOD.replace("valley", "caf\u00e9 valley").encode("utf-8"))
    expected["caf\\xe9.txt"] = None
    put("empty.txt", b"", "empty")
    put("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "binary")
    put("pdf_as.html", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 8,
        "not_html")
    put("bomb.html.gz", gzip.compress(b"<html><body>" + b" " * 60_000_000 + b"</body></html>", 9), "too_large")
    whole = gzip.compress(GOOD.encode("utf-8") * 4)
    put("cut.txt.gz", whole[: len(whole) * 6 // 10], "truncated")
    page = gzip.compress(b"<html><body><article><p>" + b"Some text of a page. " * 400 + b"</p></article></body></html>")
    put("cut.html.gz", page[: len(page) // 2], "truncated")
    put("notes.pdf", b"%PDF-1.4 not a seed type", "unsupported_file_type")
    # mixed UTF-8 and Windows-1252: loads, repaired locally
    put("mixed.txt", "A mixed encoding story\n\nThe café’s owner said it would reopen on Monday, to everyone’s relief.\n\n"
        .encode("utf-8") + "A pasted paragraph says the façade costs 500 €.\n".encode("cp1252"), None)
    # control characters and escape sequences after the first 8 KB: loads, stripped
    put("controls.txt", (GOOD + "\n" + "Filler sentence for the sake of length. " * 220 +
                         "\n\nEnd \x1b[2J\x1b]0;pwned\x07 of \x00story.\n").encode("utf-8"), None)
    # a long text, over spaCy's 1,000,000-character limit (long words keep the parse quick): loads, in pieces
    long_word = "Lorem" + "ipsum" * 40
    put("long.txt", ("A very long text\n\n" + "\n\n".join(
        " ".join([long_word] * 50) + "." for _ in range(110))).encode("utf-8"), None)
    put("quotes.txt", _quote_storm(33_000).encode("utf-8"), None)
    put("nested.html", b"<html><body>" + b"<div>" * 50_000 + b"deep" + b"</div>" * 50_000 + b"</body></html>",
        "no_article_text")
    # the boundary of the seeds folder
    (outside / "secret.txt").write_text("Secret\n\nThis file lives outside the seeds folder and must never load.\n")
    (folder / "secret.txt").symlink_to(outside / "secret.txt")
    expected["secret.txt"] = "outside_seeds"
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    expected["loop.txt"] = "symlink_loop"
    (folder / "dangling.txt").symlink_to(folder / "no_such_file.txt")
    expected["dangling.txt"] = "dangling_link"
    (folder / "inside_link.txt").symlink_to(folder / "good.txt")  # a link that stays inside is a seed like any
    expected["inside_link.txt"] = None
    return expected


if __name__ == "__main__":
    target = Path(sys.argv[1])
    for name, reason in sorted(write_adversarial_seeds(target / "seeds", target / "outside").items()):
        print(f"{name}: {reason or 'loads'}")
