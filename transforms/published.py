"""The publication day: which of the dates a page carries is the day it was published.

A page may declare a publication time (JSON-LD, <meta>, microdata), show a day by its
headline (`transforms.dateline`), carry a day in its URL, and trafilatura (htmldate) may
find yet another. `pick_published` weighs them, time zones included.
"""

from __future__ import annotations

from transforms.dateline import Dateline
from transforms.dates import days_apart, normalise_date, parse_url_day, reconcilable, shiftable
from transforms.guesses import TrafilaturaMetadata
from transforms.metadata import PageMetadata, Sourced


def pick_published(meta: PageMetadata, guess: TrafilaturaMetadata | None, dateline: Dateline,
                   url: str | None) -> Sourced | None:
    """The publication day as the page states it, in the publisher's own time zone.

    In order: the declared timestamp when the URL path carries the same day (the strongest
    evidence of the original publication); the day shown by the headline and byline
    (`parse_shown_date`: what readers see, where metadata often carries a CMS creation date
    or a UTC timestamp that falls on the next day); the URL's day when the declared UTC
    timestamp is one day off it; the declared timestamp unless trafilatura (htmldate) finds
    another day on the page. A declared value is kept when it agrees on the day, as it
    carries the time and the zone. A <time datetime> stamp by the headline whose day is the
    declared modification day, not the declared publication day, is the update time: it never
    replaces the declared publication date (a day written out for the reader still does). A
    shown day one day off a declared time is another event (the print edition, a broadcast, an
    update) unless a time zone can move the declared moment to that day: a local time declared
    with its offset is already the publisher's day; a UTC time can move only as far as the
    offsets of the world reach (-12:00 to +14:00). Likewise a day shown with its time of day
    ("26.08.2024 um 06:00 Uhr") that no offset makes the declared moment is another event (a
    broadcast, the last update of a live page), however many days apart.
    """
    declared = meta.published_at
    declared_day = declared.value[:10] if declared is not None else None
    updated_day = meta.modified_at.value[:10] if meta.modified_at is not None else None
    url_day = parse_url_day(url)

    shown_day = dateline.day
    if dateline.day_in_markup and declared_day is not None and shown_day not in {None, declared_day} \
            and shown_day == updated_day:
        shown_day = None
    if declared is not None and declared_day == url_day:
        return declared
    def other_event(day: str | None) -> bool:  # one day off a declared time that no time zone can shift there
        return declared is not None and day is not None and declared_day is not None \
            and days_apart(day, declared_day) == 1 and not shiftable(declared.value, day)

    if other_event(shown_day) or (declared is not None and shown_day is not None and dateline.time is not None
                                  and not reconcilable(declared.value, shown_day, dateline.time)):
        shown_day = None  # a day and time shown that no time zone makes the declared moment: another event
    if shown_day is not None:
        return declared if declared is not None and declared_day == shown_day else Sourced(shown_day, "html")
    if url_day is not None and declared_day is not None and days_apart(url_day, declared_day) == 1:
        return Sourced(url_day, "url")
    shown = normalise_date(guess.date) if guess is not None and guess.date else None
    if declared is not None and (shown is None or declared_day == shown[:10]
                                 or other_event(shown[:10])):
        return declared
    return Sourced(shown, "trafilatura") if shown else declared
