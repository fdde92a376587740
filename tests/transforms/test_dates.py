"""Dates: declared dates to ISO 8601, days shown in text and URLs, machine dates to aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.dates import (days_apart, normalise_date, parse_moment, parse_shown_days, parse_shown_time, parse_url_day,
                             reconcilable, shiftable)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2019-11-19T17:42:40+00:00", "2019-11-19T17:42:40+00:00"),
        ("2019-11-19T17:42:40Z", "2019-11-19T17:42:40+00:00"),
        ("2019-11-19T17:42:40.000-0500", "2019-11-19T17:42:40-05:00"),
        ("2019-11-19 17:42:40", "2019-11-19T17:42:40"),
        ("2019-11-19", "2019-11-19"),
        ("20191119", "2019-11-19"),
        ("Tue, 19 Nov 2019 17:42:40 GMT", "2019-11-19T17:42:40+00:00"),
        ("November 19, 2019", "2019-11-19"),
        ("not a date", None),
        ("1066-10-14", None),
    ],
)
def test_dates_become_iso_8601_with_zone_kept(raw: str, expected: str | None) -> None:
    assert normalise_date(raw) == expected



@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Posted on September 21, 2020 by Ada Lovelace", ["2020-09-21"]),
        ("Last updated 04 Jun 2020, originally created 17 Jun 2019", ["2020-06-04", "2019-06-17"]),
        ("Written: 2023-11-07 15:03:30 / Updated: 2023-11-07 15:30:46", ["2023-11-07", "2023-11-07"]),
        ("31. October, 2023 | 18 Comments", ["2023-10-31"]),
        ("Dec. 3rd 2019, 4:41AM", ["2019-12-03"]),
        ("01.21.2020 07:00 AM", ["2020-01-21"]),  # month first: 21 cannot be a month
        ("21/01/2020", ["2020-01-21"]),
        ("03/04/2020", []),  # day and month cannot be told apart
        ("February 30, 2020", []),
        ("Mayor 2020 race: 12 candidates", []),
    ],
)
def test_shown_days_are_read_in_order(text: str, expected: list[str]) -> None:
    assert [day for _start, _end, day in parse_shown_days(text)] == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://courier.example/2019/11/8/20948348/ferry-fine", "2019-11-08"),
        ("https://courier.example/business/story/2019-11-19/ferry-fine", "2019-11-19"),
        ("https://courier.example/articles/35030/20160214/ferry-fine.htm", "2016-02-14"),
        ("https://courier.example/2019/13/01/ferry-fine", None),
        ("https://courier.example/ferry-fine-11574121884", None),
        (None, None),
    ],
)
def test_url_day(url: str | None, expected: str | None) -> None:
    assert parse_url_day(url) == expected


@given(st.text(max_size=120))
def test_shown_days_never_raise(text: str) -> None:
    assert all(start < end for start, end, _day in parse_shown_days(text))


def test_moments_are_aware() -> None:
    assert parse_moment("2024") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_moment("2024-05-06T10:00:00") == datetime(2024, 5, 6, 10, tzinfo=UTC)  # no zone: UTC
    assert parse_moment("2024-05-06T10:00:00+0200") == datetime(2024, 5, 6, 8, tzinfo=UTC)
    assert parse_moment("Tue, 05 Mar 2024 18:04:00 GMT") == datetime(2024, 3, 5, 18, 4, tzinfo=UTC)
    assert parse_moment(" ") is None and parse_moment("not a date") is None


def test_time_zones_shift_a_moment_only_as_far_as_they_reach() -> None:
    assert days_apart("2024-03-01T23:00:00+00:00", "2024-02-29") == 1
    assert shiftable("2024-03-01T23:00:00+00:00", "2024-03-02")  # UTC: a zone east of it is already on the 2nd
    assert not shiftable("2024-03-01T23:00:00+01:00", "2024-03-02")  # the publisher's own offset: its day
    assert shiftable("2024-03-01", "2024-03-02")  # a bare date has no moment to pin


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (", 12:32 Uhr", "12:32"),
        (" um 06:00 Uhr.", "06:00"),
        (" at 7:30 PM CST", "19:30"),
        (" à 14h05", "14:05"),
        (" 12:05 a.m.", "00:05"),
        (" | 18.40", "18:40"),
        (" von Anna Berg", None),
        (", 2024", None),
        (" 25:10", None),
    ],
)
def test_the_time_shown_after_a_day(after: str, expected: str | None) -> None:
    assert parse_shown_time(after) == expected


def test_a_shown_time_reconciles_with_a_declared_moment_only_within_the_offsets_of_the_world() -> None:
    declared = "2024-08-27T10:32:24+00:00"
    assert reconcilable(declared, "2024-08-27", "12:32")  # the same moment in Berlin
    assert reconcilable(declared, "2024-08-26", "23:00")  # Hawaii's evening before: -11:32
    assert not reconcilable(declared, "2024-08-26", "06:00")  # 28 hours before: a broadcast the day before
    assert not reconcilable("2023-10-07T09:53:36+02:00", "2024-07-18", "11:08")  # an update months later
    assert reconcilable("2024-08-27", "2024-08-26", "06:00")  # a date alone pins no moment
    assert reconcilable("2024-08-27T10:32:24", "2024-08-26", "06:00")  # nor does a time without a zone
