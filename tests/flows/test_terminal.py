"""Data printed to a terminal is shown as it is: never markup, never emoji, never an escape sequence."""

from __future__ import annotations

import io

from flows.terminal import escape_controls, print_table

NASTY = ["[/x] closing tag", "[bold red]alarm[/bold red] [link=http://evil.example]click[/link]", "root:x:0:0",
         "\x1b[2J\x1b]0;pwned\x07 clear", "rtl \u202eevil", None]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_table_shows_markup_and_emoji_codes_as_text_and_escapes_controls() -> None:
    out = _Terminal()
    print_table(["value"], [(v,) for v in NASTY], out=out)
    shown = out.getvalue()
    assert "[/x] closing tag" in shown and "[bold red]alarm[/bold red]" in shown and "[link=http://evil.example]" in shown
    assert "root:x:0:0" in shown and "\u274c" not in shown  # :x: is no emoji
    assert "\x1b[2J" not in shown and "\x1b]0;" not in shown and "\x07" not in shown  # (Rich's own bold header is fine)
    assert "\\x1b[2J\\x1b]0;pwned\\x07 clear" in shown
    assert "\u202e" not in shown and "\\u202e" in shown


def test_csv_and_json_are_escaped_on_a_terminal_and_exact_in_a_pipe() -> None:
    for fmt in ("csv", "json"):
        terminal, pipe = _Terminal(), io.StringIO()
        print_table(["a"], [("\x1b[2J",)], fmt, out=terminal)
        print_table(["a"], [("\x1b[2J",)], fmt, out=pipe)
        assert "\x1b" not in terminal.getvalue()
        assert ("\x1b[2J" in pipe.getvalue()) == (fmt == "csv")  # JSON escapes it as \u001b anyway


def test_escape_controls_keeps_ordinary_text() -> None:
    text = "Zürich café – “quoted” ’s\tand\nnew line"
    assert escape_controls(text) == text
    assert escape_controls("a\x00b\x7fc\x85") == "a\\x00b\\x7fc\\x85"
