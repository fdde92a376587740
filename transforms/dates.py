"""Dates: every way newsdesk reads a date, in one place.

- `parse_moment`: an aware datetime from a machine date (ISO 8601/W3C, including "2024" and
  "2024-05", or RFC 822), for feeds, sitemaps and WARC headers; a time without a zone is UTC.
- `normalise_date`: ISO 8601 text from a date a page declares (JSON-LD, <meta>, microdata,
  <time datetime>): a date alone stays a date, a given time zone is kept, a missing one is not
  invented.
- `parse_shown_days`: the calendar days written out for the reader in a short run of text,
  and `parse_url_day`: the day a URL path carries.
- `days_apart` and `shiftable`: how far apart two days are, and whether a time zone can move
  a declared moment onto a given day.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from transforms.text import normalise_line

_W3C_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TEXT_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%Y/%m/%d", "%d/%m/%Y",
                      "%m/%d/%Y", "%b. %d, %Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y.%m.%d", "%d.%m.%Y")
_MONTH = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
          r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_SHOWN_DATES = (  # dates as a reader sees them: 2020-06-04, 4 June 2020, June 4th, 2020, 06/24/2020
    ("ymd", re.compile(r"\b((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})\b")),
    ("dmy", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?{_MONTH},?\s+((?:19|20)\d{{2}})\b", re.I)),
    ("mdy", re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{{2}})\b", re.I)),
    ("numeric", re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.]((?:19|20)\d{2})\b")),
)
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_SHOWN_TIME = re.compile(r"^\s*(?:,|\||-|–|/|\bum\b|\bat\b|\bà\b|\bkl\.?|\bklo\.?)?\s*(?:,\s*)?"
                         r"([01]?\d|2[0-3])[:.h]([0-5]\d)(?!\d)(?:\s*(am|pm|a\.m\.|p\.m\.))?", re.I)
_URL_DAY = re.compile(r"/((?:19|20)\d{2})(?:[/_-](\d{1,2})[/_-](\d{1,2})|(\d{2})(\d{2}))(?=[/_.-]|$)")


def _iso_or_rfc822(text: str) -> datetime | None:
    """A datetime from ISO 8601 ("Z", "+0100" and a space before the time allowed) or RFC 822."""
    candidate = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", text) else text
    candidate = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", candidate.replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def parse_moment(value: str | None) -> datetime | None:
    """An aware datetime from ISO 8601/W3C (incl. "2024" and "2024-05") or RFC 822; None when absent or unreadable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if partial := _W3C_PARTIAL.match(text):
        return datetime(int(partial.group(1)), int(partial.group(2) or 1), 1, tzinfo=UTC)
    moment = _iso_or_rfc822(text)
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _in_range(day: date) -> bool:
    return 1990 <= day.year <= 2100


def normalise_date(raw: str) -> str | None:
    """ISO 8601 from a declared date: date only stays a date, a given time zone is kept."""
    text = normalise_line(raw)
    if not text:
        return None
    if m := _COMPACT_DATE.match(text):
        text = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    if _DATE_ONLY.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        return day.isoformat() if _in_range(day) else None
    parsed = _iso_or_rfc822(text)
    if parsed is None:
        for fmt in _TEXT_DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
            except ValueError:
                continue
            if "%H" not in fmt:
                return parsed.date().isoformat() if _in_range(parsed) else None
            break
    if parsed is None or not _in_range(parsed):
        return None
    return parsed.isoformat()


def parse_shown_days(text: str) -> list[tuple[int, int, str]]:
    """Calendar days written out in `text`: (start, end, ISO day) in reading order.

    Numeric dates whose day and month cannot be told apart (03/04/2020) are left out.
    """
    found: list[tuple[int, int, str]] = []
    for kind, pattern in _SHOWN_DATES:
        for match in pattern.finditer(text):
            a, b, c = match.groups()
            if kind == "ymd":
                year, month, day = int(a), int(b), int(c)
            elif kind == "dmy":
                year, month, day = int(c), _MONTHS[b[:3].lower()], int(a)
            elif kind == "mdy":
                year, month, day = int(c), _MONTHS[a[:3].lower()], int(b)
            elif (int(a) > 12) == (int(b) > 12):
                continue
            else:
                year, month, day = (int(c), int(b), int(a)) if int(a) > 12 else (int(c), int(a), int(b))
            if any(start < match.end() and match.start() < end for start, end, _ in found):
                continue
            try:
                found.append((match.start(), match.end(), date(year, month, day).isoformat()))
            except ValueError:
                continue
    return sorted(found)


def parse_shown_time(after: str) -> str | None:
    """The time of day written right after a shown day ("27.08.2024, 12:32 Uhr", "May 3, 2024 at 7:30 PM",
    "3 mai 2024 à 14h05"), as "HH:MM" on the 24-hour clock; None when the day stands alone."""
    match = _SHOWN_TIME.match(after[:40])
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    half = (match.group(3) or "").lower().replace(".", "")
    if half and not 1 <= hour <= 12:
        return None
    if half == "pm" and hour != 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}"


def parse_url_day(url: str | None) -> str | None:
    """The day a URL path carries (/2019/11/08/, /2019-11-08/, /20191108/), as an ISO date."""
    match = _URL_DAY.search(urlsplit(url).path) if url else None
    if match is None:
        return None
    try:
        day = date(int(match.group(1)), int(match.group(2) or match.group(4)), int(match.group(3) or match.group(5)))
    except ValueError:
        return None
    return day.isoformat()


def days_apart(a: str, b: str) -> int:
    """Whole days between the calendar days of two ISO dates or datetimes."""
    return abs((date.fromisoformat(a[:10]) - date.fromisoformat(b[:10])).days)


def reconcilable(value: str, day: str, time: str) -> bool:
    """Whether a declared moment can be the local time `day` `time` somewhere: the two are at most
    the offsets of the world apart (-12:00..+14:00). A declared value without a zone always can."""
    try:
        moment = datetime.fromisoformat(value)
        shown = datetime.fromisoformat(f"{day}T{time}")
    except ValueError:
        return True
    if len(value) <= 10 or moment.tzinfo is None:
        return True
    offset = shown - moment.astimezone(UTC).replace(tzinfo=None)
    return timedelta(hours=-12) <= offset <= timedelta(hours=14)


def shiftable(value: str, day: str) -> bool:
    """Whether the moment `value` falls on `day` somewhere: always for a bare date or a time without
    a zone, never for a local time with its offset, within -12:00..+14:00 of a UTC time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return True
    if len(value) <= 10 or moment.tzinfo is None:
        return True
    offset = moment.utcoffset()
    if offset:
        return moment.date().isoformat() == day
    return (moment - timedelta(hours=12)).date().isoformat() <= day <= (moment + timedelta(hours=14)).date().isoformat()
