"""Data shown on a terminal is shown, never obeyed.

Article text, titles, file names and error messages come from the outside world:
`[bold red]` or `[/x]` must not reach Rich's markup parser (styling, hidden
links, a MarkupError crash), `:x:` must not become an emoji, and an escape
sequence (`\\x1b[2J`, `\\x1b]0;...`) must not reach the terminal to clear it or
retitle it. Control characters, and the invisible bidirectional overrides that
can reorder what a reader sees, are written as `\\xNN` / `\\uNNNN` escapes.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from typing import Any, TextIO

# C0 controls except tab and newline, DEL, C1 controls, and the bidi embeddings/overrides/isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape_controls(value: str) -> str:
    """`value` with control and bidi-override characters written as escapes; other text unchanged."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                       value)


def to_cell(value: Any) -> str:
    return "" if value is None else escape_controls(str(value))


def print_table(names: list[str], rows: list[tuple[Any, ...]], fmt: str = "table", out: TextIO | None = None) -> None:
    """Rows as a Rich table (no markup, no emoji, no highlighting), CSV or JSON; escaped on a terminal."""
    out = out or sys.stdout
    terminal = out.isatty()
    if fmt == "json":
        text = json.dumps([dict(zip(names, row)) for row in rows], default=str, ensure_ascii=False, indent=1)
        out.write((escape_controls(text) if terminal else text) + "\n")
        return
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow([to_cell(n) if terminal else n for n in names])
        writer.writerows([[to_cell(v) for v in row] if terminal else row for row in rows])
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False)
    for name in names:
        table.add_column(Text(to_cell(name)))
    for row in rows:
        table.add_row(*(Text(to_cell(v)) for v in row))
    Console(file=out, width=max(100, min(200, 30 * len(names))), markup=False, emoji=False,
            highlight=False).print(table)
