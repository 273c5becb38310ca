"""Dashboard periods: presets, comparisons, buckets and DST-safe UTC ranges (SPEC §6)."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from customer_hub.edge.http import make_app
from customer_hub.metrics.periods import (
    DEFAULT_COMPARE,
    DEFAULT_PRESET,
    CompareMode,
    CompareParam,
    DateRange,
    EndParam,
    Interval,
    IntervalParam,
    PeriodError,
    PeriodParam,
    Preset,
    StartParam,
    buckets,
    comparison_range,
    default_interval,
    local_date,
    local_day_bounds,
    local_midnight,
    preset_range,
    resolve_period,
    resolve_query,
)
from hubdev.events import http_event

D = date.fromisoformat
HOUR = timedelta(hours=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rng(start: str, end: str) -> DateRange:
    return DateRange(D(start), D(end))


# ---------------------------------------------------------------- presets


@pytest.mark.parametrize(
    ("today", "preset", "start", "end"),
    [
        # An ordinary Thursday.
        ("2026-11-19", Preset.TODAY, "2026-11-19", "2026-11-19"),
        ("2026-11-19", Preset.YESTERDAY, "2026-11-18", "2026-11-18"),
        ("2026-11-19", Preset.LAST_7_DAYS, "2026-11-13", "2026-11-19"),
        ("2026-11-19", Preset.LAST_30_DAYS, "2026-10-21", "2026-11-19"),
        ("2026-11-19", Preset.LAST_90_DAYS, "2026-08-22", "2026-11-19"),
        ("2026-11-19", Preset.WEEK_TO_DATE, "2026-11-16", "2026-11-19"),
        ("2026-11-19", Preset.MONTH_TO_DATE, "2026-11-01", "2026-11-19"),
        ("2026-11-19", Preset.LAST_MONTH, "2026-10-01", "2026-10-31"),
        # SPEC's example: last 7 days on 1 February, today included.
        ("2026-02-01", Preset.LAST_7_DAYS, "2026-01-26", "2026-02-01"),
        # Week to date on a Monday is just today; on a Sunday the whole ISO week.
        ("2026-11-23", Preset.WEEK_TO_DATE, "2026-11-23", "2026-11-23"),
        ("2026-11-29", Preset.WEEK_TO_DATE, "2026-11-23", "2026-11-29"),
        # Month ends.
        ("2026-01-31", Preset.MONTH_TO_DATE, "2026-01-01", "2026-01-31"),
        ("2026-03-31", Preset.LAST_MONTH, "2026-02-01", "2026-02-28"),
        ("2026-04-30", Preset.LAST_MONTH, "2026-03-01", "2026-03-31"),
        ("2026-03-01", Preset.LAST_30_DAYS, "2026-01-31", "2026-03-01"),
        ("2026-03-01", Preset.MONTH_TO_DATE, "2026-03-01", "2026-03-01"),
        ("2026-03-01", Preset.YESTERDAY, "2026-02-28", "2026-02-28"),
        # Year ends.
        ("2026-01-01", Preset.YESTERDAY, "2025-12-31", "2025-12-31"),
        ("2026-01-01", Preset.LAST_MONTH, "2025-12-01", "2025-12-31"),
        ("2026-01-03", Preset.LAST_7_DAYS, "2025-12-28", "2026-01-03"),
        ("2027-01-01", Preset.WEEK_TO_DATE, "2026-12-28", "2027-01-01"),
        ("2026-12-31", Preset.MONTH_TO_DATE, "2026-12-01", "2026-12-31"),
        ("2026-01-15", Preset.LAST_90_DAYS, "2025-10-18", "2026-01-15"),
        # Leap years.
        ("2024-02-29", Preset.MONTH_TO_DATE, "2024-02-01", "2024-02-29"),
        ("2024-02-29", Preset.LAST_7_DAYS, "2024-02-23", "2024-02-29"),
        ("2024-03-01", Preset.YESTERDAY, "2024-02-29", "2024-02-29"),
        ("2024-03-15", Preset.LAST_MONTH, "2024-02-01", "2024-02-29"),
        ("2024-03-01", Preset.LAST_30_DAYS, "2024-02-01", "2024-03-01"),
    ],
)
def test_preset_dates(today: str, preset: Preset, start: str, end: str) -> None:
    assert preset_range(preset, D(today)) == rng(start, end)


@pytest.mark.parametrize(
    ("preset", "days"),
    [
        (Preset.TODAY, 1),
        (Preset.YESTERDAY, 1),
        (Preset.LAST_7_DAYS, 7),
        (Preset.LAST_30_DAYS, 30),
        (Preset.LAST_90_DAYS, 90),
    ],
)
def test_rolling_presets_cover_their_day_count_on_every_day_of_a_leap_year(
    preset: Preset, days: int
) -> None:
    for today in rng("2024-01-01", "2024-12-31").dates():
        period = preset_range(preset, today)
        assert period.days == days
        assert period.end == (today if preset is not Preset.YESTERDAY else today - timedelta(1))


def test_to_date_presets_start_on_monday_and_first_of_month_every_day() -> None:
    for today in rng("2025-12-01", "2027-01-31").dates():
        week = preset_range(Preset.WEEK_TO_DATE, today)
        month = preset_range(Preset.MONTH_TO_DATE, today)
        last = preset_range(Preset.LAST_MONTH, today)
        assert week.end == month.end == today
        assert week.start.isoweekday() == 1 and 1 <= week.days <= 7
        assert month.start == today.replace(day=1)
        assert last.start.day == 1 and last.end + timedelta(1) == month.start


def test_custom_is_not_a_preset() -> None:
    with pytest.raises(ValueError, match="explicit start and end"):
        preset_range(Preset.CUSTOM, D("2026-11-19"))


# ---------------------------------------------------------------- today in the merchant's zone


@pytest.mark.parametrize(
    ("now", "timezone", "today"),
    [
        ("2026-11-23T23:30:00", "Europe/Warsaw", "2026-11-24"),
        ("2026-11-23T23:30:00", "America/New_York", "2026-11-23"),
        ("2026-11-23T23:30:00", "Australia/Sydney", "2026-11-24"),
        ("2026-11-23T04:59:59", "America/New_York", "2026-11-22"),
        ("2026-11-23T05:00:00", "America/New_York", "2026-11-23"),
        ("2026-11-23T12:59:59", "Australia/Sydney", "2026-11-23"),
        ("2026-11-23T13:00:00", "Australia/Sydney", "2026-11-24"),
        # Warsaw, spring forward on 2026-03-29 (CET +1 -> CEST +2).
        ("2026-03-28T22:59:59", "Europe/Warsaw", "2026-03-28"),
        ("2026-03-28T23:00:01", "Europe/Warsaw", "2026-03-29"),
        ("2026-03-29T21:59:59", "Europe/Warsaw", "2026-03-29"),
        ("2026-03-29T22:00:01", "Europe/Warsaw", "2026-03-30"),
        # Warsaw, fall back on 2026-10-25 (CEST +2 -> CET +1).
        ("2026-10-24T22:00:01", "Europe/Warsaw", "2026-10-25"),
        ("2026-10-25T22:59:59", "Europe/Warsaw", "2026-10-25"),
        ("2026-10-25T23:00:01", "Europe/Warsaw", "2026-10-26"),
        # Sydney (southern hemisphere), fall back on 2026-04-05 (AEDT +11 -> AEST +10).
        ("2026-04-04T13:00:01", "Australia/Sydney", "2026-04-05"),
        ("2026-04-05T13:59:59", "Australia/Sydney", "2026-04-05"),
        ("2026-04-05T14:00:01", "Australia/Sydney", "2026-04-06"),
        # Sydney, spring forward on 2026-10-04 (AEST +10 -> AEDT +11).
        ("2026-10-03T14:00:01", "Australia/Sydney", "2026-10-04"),
        ("2026-10-04T12:59:59", "Australia/Sydney", "2026-10-04"),
        ("2026-10-04T13:00:01", "Australia/Sydney", "2026-10-05"),
        # New York, spring forward 2026-03-08, fall back 2026-11-01.
        ("2026-03-08T05:00:01", "America/New_York", "2026-03-08"),
        ("2026-03-09T04:00:01", "America/New_York", "2026-03-09"),
        ("2026-11-01T04:00:01", "America/New_York", "2026-11-01"),
        ("2026-11-02T04:59:59", "America/New_York", "2026-11-01"),
        ("2026-11-02T05:00:01", "America/New_York", "2026-11-02"),
    ],
)
def test_today_is_the_merchants_local_date(now: str, timezone: str, today: str) -> None:
    resolved = resolve_period(timezone=timezone, now=utc(now), period="today")
    assert resolved.period == rng(today, today)
    assert resolved.period_json() == {"start": today, "end": today, "timezone": timezone}
    first, after = resolved.utc_bounds()
    assert first <= utc(now) < after


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2026, 11, 23, 12), ZoneInfo("UTC"))


def test_an_unknown_time_zone_is_a_server_error_not_a_query_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone") as caught:
        resolve_period(timezone="Mars/Olympus", now=utc("2026-11-23T12:00:00"))
    assert not isinstance(caught.value, PeriodError)


# ---------------------------------------------------------------- UTC ranges of local days


@pytest.mark.parametrize(
    ("timezone", "day", "first", "after", "hours"),
    [
        ("Europe/Warsaw", "2026-03-29", "2026-03-28T23:00:00", "2026-03-29T22:00:00", 23),
        ("Europe/Warsaw", "2026-10-25", "2026-10-24T22:00:00", "2026-10-25T23:00:00", 25),
        ("Europe/Warsaw", "2026-11-23", "2026-11-22T23:00:00", "2026-11-23T23:00:00", 24),
        ("Australia/Sydney", "2026-10-04", "2026-10-03T14:00:00", "2026-10-04T13:00:00", 23),
        ("Australia/Sydney", "2026-04-05", "2026-04-04T13:00:00", "2026-04-05T14:00:00", 25),
        ("America/New_York", "2026-03-08", "2026-03-08T05:00:00", "2026-03-09T04:00:00", 23),
        ("America/New_York", "2026-11-01", "2026-11-01T04:00:00", "2026-11-02T05:00:00", 25),
        ("UTC", "2024-02-29", "2024-02-29T00:00:00", "2024-03-01T00:00:00", 24),
    ],
)
def test_utc_range_of_23_24_and_25_hour_local_days(
    timezone: str, day: str, first: str, after: str, hours: int
) -> None:
    bounds = local_day_bounds(D(day), ZoneInfo(timezone))
    assert bounds == (utc(first), utc(after))
    assert bounds[1] - bounds[0] == hours * HOUR


@pytest.mark.parametrize(
    "timezone",
    [
        "Europe/Warsaw",
        "Australia/Sydney",
        "America/New_York",
        "America/Santiago",  # DST starts at midnight: the day begins at 01:00
        "America/Havana",  # DST at midnight too
        "Australia/Lord_Howe",  # half-hour DST shift
        "Asia/Kathmandu",  # +05:45
        "Pacific/Apia",
    ],
)
def test_local_days_tile_utc_time_without_gaps_or_overlaps(timezone: str) -> None:
    zone = ZoneInfo(timezone)
    lengths = set()
    for day in rng("2026-01-01", "2026-12-31").dates():
        first, after = local_day_bounds(day, zone)
        assert after == local_midnight(day + timedelta(1), zone)
        assert local_date(first, zone) == day
        assert local_date(after - timedelta(microseconds=1), zone) == day
        assert local_date(after, zone) == day + timedelta(1)
        lengths.add(after - first)
    assert lengths <= {23 * HOUR, 23.5 * HOUR, 24 * HOUR, 24.5 * HOUR, 25 * HOUR}


def test_a_day_whose_midnight_does_not_exist_starts_when_the_clock_jumps() -> None:
    zone = ZoneInfo("America/Santiago")
    starts = [
        local_midnight(day, zone).astimezone(zone).hour
        for day in rng("2026-01-01", "2026-12-31").dates()
    ]
    assert starts.count(1) == 1 and starts.count(0) == 364


def test_utc_range_of_a_period_spanning_a_dst_switch() -> None:
    # last 7 days on 2026-03-31 in Warsaw contains the 23-hour 29 March.
    resolved = resolve_period(
        timezone="Europe/Warsaw", now=utc("2026-03-31T10:00:00"), period="last_7_days"
    )
    first, after = resolved.utc_bounds()
    assert (first, after) == (utc("2026-03-24T23:00:00"), utc("2026-03-31T22:00:00"))
    assert after - first == 7 * 24 * HOUR - HOUR
    assert resolved.comparison_utc_bounds() == (
        utc("2026-03-17T23:00:00"),
        utc("2026-03-24T23:00:00"),
    )


def test_no_comparison_bounds_without_a_comparison() -> None:
    resolved = resolve_period(timezone="UTC", now=utc("2026-11-23T10:00:00"), compare="none")
    assert resolved.comparison is None
    assert resolved.comparison_utc_bounds() is None
    assert resolved.comparison_json() is None


# ---------------------------------------------------------------- comparisons


@pytest.mark.parametrize(
    ("start", "end", "mode", "expected"),
    [
        ("2026-01-26", "2026-02-01", CompareMode.PREVIOUS_PERIOD, ("2026-01-19", "2026-01-25")),
        ("2026-11-19", "2026-11-19", CompareMode.PREVIOUS_PERIOD, ("2026-11-18", "2026-11-18")),
        # last month in March: February's 28 days immediately before it.
        ("2026-02-01", "2026-02-28", CompareMode.PREVIOUS_PERIOD, ("2026-01-04", "2026-01-31")),
        ("2026-01-01", "2026-01-10", CompareMode.PREVIOUS_PERIOD, ("2025-12-22", "2025-12-31")),
        ("2024-01-01", "2024-12-31", CompareMode.PREVIOUS_PERIOD, ("2022-12-31", "2023-12-31")),
        ("2024-03-01", "2024-03-07", CompareMode.PREVIOUS_PERIOD, ("2024-02-23", "2024-02-29")),
        ("2026-11-01", "2026-11-19", CompareMode.PREVIOUS_YEAR, ("2025-11-01", "2025-11-19")),
        ("2024-02-29", "2024-02-29", CompareMode.PREVIOUS_YEAR, ("2023-02-28", "2023-02-28")),
        ("2024-02-01", "2024-02-29", CompareMode.PREVIOUS_YEAR, ("2023-02-01", "2023-02-28")),
        ("2024-02-29", "2024-03-06", CompareMode.PREVIOUS_YEAR, ("2023-02-28", "2023-03-06")),
        ("2025-02-28", "2025-02-28", CompareMode.PREVIOUS_YEAR, ("2024-02-28", "2024-02-28")),
        ("2025-03-01", "2025-03-10", CompareMode.PREVIOUS_YEAR, ("2024-03-01", "2024-03-10")),
        ("2024-01-01", "2024-12-31", CompareMode.PREVIOUS_YEAR, ("2023-01-01", "2023-12-31")),
        ("2026-12-26", "2027-01-01", CompareMode.PREVIOUS_YEAR, ("2025-12-26", "2026-01-01")),
    ],
)
def test_comparison_ranges(
    start: str, end: str, mode: CompareMode, expected: tuple[str, str]
) -> None:
    assert comparison_range(rng(start, end), mode) == rng(*expected)


def test_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    generator = random.Random(6)
    for _ in range(500):
        start = D("2023-01-01") + timedelta(days=generator.randrange(1200))
        period = DateRange(start, start + timedelta(days=generator.randrange(366)))
        previous = comparison_range(period, CompareMode.PREVIOUS_PERIOD)
        assert previous is not None
        assert previous.days == period.days
        assert previous.end + timedelta(1) == period.start


def test_comparison_none() -> None:
    assert comparison_range(rng("2026-11-01", "2026-11-19"), CompareMode.NONE) is None


def test_api_md_overview_example() -> None:
    resolved = resolve_period(timezone="Europe/Warsaw", now=utc("2026-11-23T10:00:00"))
    assert resolved.preset is Preset.LAST_30_DAYS
    assert resolved.period_json() == {
        "start": "2026-10-25",
        "end": "2026-11-23",
        "timezone": "Europe/Warsaw",
    }
    assert resolved.comparison_json() == {
        "start": "2026-09-25",
        "end": "2026-10-24",
        "type": "previous_period",
    }
    assert resolved.custom_query() == {
        "period": "custom",
        "start": "2026-10-25",
        "end": "2026-11-23",
    }
    assert resolved.interval is Interval.DAY
    assert len(resolved.buckets) == 30


def test_previous_year_on_a_leap_day_through_the_query() -> None:
    resolved = resolve_period(
        timezone="Australia/Sydney",
        now=utc("2024-02-28T14:30:00"),  # 01:30 on 29 February in Sydney
        period="today",
        compare="previous_year",
    )
    assert resolved.period == rng("2024-02-29", "2024-02-29")
    assert resolved.comparison_json() == {
        "start": "2023-02-28",
        "end": "2023-02-28",
        "type": "previous_year",
    }


def test_last_month_in_march_of_a_leap_year_through_the_query() -> None:
    resolved = resolve_period(
        timezone="America/New_York", now=utc("2024-03-10T15:00:00"), period="last_month"
    )
    assert resolved.period == rng("2024-02-01", "2024-02-29")
    assert resolved.comparison_json() == {
        "start": "2024-01-03",
        "end": "2024-01-31",
        "type": "previous_period",
    }


# ---------------------------------------------------------------- intervals and buckets


@pytest.mark.parametrize(
    ("days", "interval"),
    [
        (1, "day"),
        (7, "day"),
        (31, "day"),
        (32, "week"),
        (90, "week"),
        (120, "week"),
        (121, "month"),
        (366, "month"),
    ],
)
def test_default_interval_by_length(days: int, interval: str) -> None:
    assert default_interval(days) == Interval(interval)


@pytest.mark.parametrize(
    ("period", "interval"),
    [
        ("today", "day"),
        ("last_7_days", "day"),
        ("last_30_days", "day"),
        ("month_to_date", "day"),
        ("last_month", "day"),
        ("last_90_days", "week"),
    ],
)
def test_default_interval_of_presets(period: str, interval: str) -> None:
    resolved = resolve_period(timezone="UTC", now=utc("2026-11-19T12:00:00"), period=period)
    assert resolved.interval == Interval(interval)


def test_day_buckets_are_the_days() -> None:
    period = rng("2024-02-27", "2024-03-02")
    assert buckets(period, Interval.DAY) == tuple(DateRange(d, d) for d in period.dates())


def test_week_buckets_are_iso_weeks_clipped_to_the_period() -> None:
    # Wednesday 4 November .. Monday 23 November 2026.
    assert buckets(rng("2026-11-04", "2026-11-23"), Interval.WEEK) == (
        rng("2026-11-04", "2026-11-08"),
        rng("2026-11-09", "2026-11-15"),
        rng("2026-11-16", "2026-11-22"),
        rng("2026-11-23", "2026-11-23"),
    )


def test_week_buckets_across_a_year_end() -> None:
    assert buckets(rng("2025-12-24", "2026-01-06"), Interval.WEEK) == (
        rng("2025-12-24", "2025-12-28"),
        rng("2025-12-29", "2026-01-04"),
        rng("2026-01-05", "2026-01-06"),
    )


def test_month_buckets_are_calendar_months_clipped_to_the_period() -> None:
    assert buckets(rng("2024-01-15", "2024-04-10"), Interval.MONTH) == (
        rng("2024-01-15", "2024-01-31"),
        rng("2024-02-01", "2024-02-29"),
        rng("2024-03-01", "2024-03-31"),
        rng("2024-04-01", "2024-04-10"),
    )
    assert buckets(rng("2026-02-01", "2026-02-28"), Interval.MONTH) == (
        rng("2026-02-01", "2026-02-28"),
    )


def test_month_buckets_of_a_full_366_day_custom_period() -> None:
    resolved = resolve_period(
        timezone="UTC",
        now=utc("2026-11-19T12:00:00"),
        period="custom",
        start="2025-11-19",
        end="2026-11-19",
    )
    assert resolved.interval is Interval.MONTH
    assert len(resolved.buckets) == 13
    assert resolved.buckets[0] == rng("2025-11-19", "2025-11-30")
    assert resolved.buckets[-1] == rng("2026-11-01", "2026-11-19")


def test_an_interval_longer_than_the_period_is_one_clipped_bucket() -> None:
    resolved = resolve_period(
        timezone="UTC", now=utc("2026-11-19T12:00:00"), period="today", interval="month"
    )
    assert resolved.buckets == (rng("2026-11-19", "2026-11-19"),)


def test_daily_interval_over_366_days_is_allowed() -> None:
    resolved = resolve_period(
        timezone="UTC",
        now=utc("2026-11-19T12:00:00"),
        period="custom",
        start="2024-01-01",
        end="2024-12-31",
        interval="day",
    )
    assert len(resolved.buckets) == 366


@pytest.mark.parametrize("interval", list(Interval))
def test_buckets_tile_the_period_and_map_every_date(interval: Interval) -> None:
    generator = random.Random(f"buckets-{interval}")
    for _ in range(300):
        start = D("2023-06-01") + timedelta(days=generator.randrange(900))
        period = DateRange(start, start + timedelta(days=generator.randrange(366)))
        chart = buckets(period, interval)
        assert chart[0].start == period.start and chart[-1].end == period.end
        for before, after in itertools.pairwise(chart):
            assert before.end + timedelta(1) == after.start
        for bucket in chart[1:-1]:
            assert bucket.days == {"day": 1, "week": 7}.get(interval, bucket.days)
        for bucket in chart:
            if interval is Interval.WEEK:
                assert bucket.start.isocalendar()[:2] == bucket.end.isocalendar()[:2]
            if interval is Interval.MONTH:
                assert (bucket.start.year, bucket.start.month) == (
                    bucket.end.year,
                    bucket.end.month,
                )
        assert len(chart) <= {"day": 366, "week": 54, "month": 13}[interval]


def test_a_date_maps_to_its_bucket() -> None:
    resolved = resolve_period(
        timezone="Europe/Warsaw",
        now=utc("2026-11-23T10:00:00"),
        period="custom",
        start="2026-11-04",
        end="2026-11-23",
        interval="week",
    )
    assert resolved.bucket_of(D("2026-11-04")) == rng("2026-11-04", "2026-11-08")
    assert resolved.bucket_of(D("2026-11-08")) == rng("2026-11-04", "2026-11-08")
    assert resolved.bucket_of(D("2026-11-09")) == rng("2026-11-09", "2026-11-15")
    assert resolved.bucket_of(D("2026-11-23")) == rng("2026-11-23", "2026-11-23")
    assert resolved.bucket_index(D("2026-11-17")) == 2
    assert resolved.bucket_of(D("2026-11-03")) is None
    assert resolved.bucket_index(D("2026-11-24")) is None
    # An order at 23:30 UTC on 8 November is 9 November in Warsaw: the second bucket.
    ordered = resolved.local_date(utc("2026-11-08T23:30:00"))
    assert resolved.bucket_index(ordered) == 1


def test_every_date_of_the_period_maps_to_the_bucket_containing_it() -> None:
    for interval in Interval:
        resolved = resolve_period(
            timezone="UTC",
            now=utc("2026-11-19T12:00:00"),
            period="last_90_days",
            interval=interval.value,
        )
        for day in resolved.period.dates():
            index = resolved.bucket_index(day)
            assert index is not None and day in resolved.buckets[index]


# ---------------------------------------------------------------- query validation


NOW = utc("2026-11-23T10:00:00")


def resolve(**query: str | None) -> object:
    return resolve_period(timezone="Europe/Warsaw", now=NOW, **query)


def test_custom_period_of_366_days_is_accepted() -> None:
    resolved = resolve_period(
        timezone="UTC", now=NOW, period="custom", start="2024-01-01", end="2024-12-31"
    )
    assert resolved.period.days == 366
    assert resolved.comparison_json() == {
        "start": "2022-12-31",
        "end": "2023-12-31",
        "type": "previous_period",
    }


@pytest.mark.parametrize(
    ("query", "param", "message"),
    [
        ({"period": "custom", "start": "2024-01-01", "end": "2025-01-01"}, "end", "at most 366"),
        ({"period": "custom", "start": "2026-11-02", "end": "2026-11-01"}, "start", "after end"),
        ({"period": "custom", "start": "2026/11/01", "end": "2026-11-02"}, "start", "YYYY-MM-DD"),
        ({"period": "custom", "start": "20261101", "end": "2026-11-02"}, "start", "YYYY-MM-DD"),
        ({"period": "custom", "start": "2026-W45-1", "end": "2026-11-02"}, "start", "YYYY-MM-DD"),
        ({"period": "custom", "start": "2026-11-01", "end": "2026-11-2"}, "end", "YYYY-MM-DD"),
        ({"period": "custom", "start": "2026-11-01", "end": "tomorrow"}, "end", "YYYY-MM-DD"),
        ({"period": "custom", "start": "2026-02-29", "end": "2026-03-02"}, "start", "calendar"),
        ({"period": "custom", "start": "2026-13-01", "end": "2026-03-02"}, "start", "calendar"),
        ({"period": "custom", "start": "0001-01-01", "end": "0001-01-02"}, "start", "between"),
        ({"period": "custom", "start": "9999-12-30", "end": "9999-12-31"}, "start", "between"),
        ({"period": "custom", "end": "2026-11-02"}, "start", "required"),
        ({"period": "custom", "start": "2026-11-02"}, "end", "required"),
        ({"period": "custom", "start": "", "end": "2026-11-02"}, "start", "required"),
        ({"period": "last_7_days", "start": "2026-11-02"}, "start", "only allowed with"),
        ({"end": "2026-11-02"}, "end", "only allowed with"),
        ({"period": "last_week"}, "period", "one of: today, yesterday"),
        ({"period": "Today"}, "period", "one of"),
        ({"compare": "previous_month"}, "compare", "previous_period, previous_year, none"),
        ({"interval": "hour"}, "interval", "day, week, month"),
    ],
)
def test_invalid_queries_name_the_parameter(
    query: dict[str, str], param: str, message: str
) -> None:
    with pytest.raises(PeriodError, match=message) as caught:
        resolve(**query)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.param == param
    assert error.status == 422
    body = error.body()
    assert body["type"] == "https://customer-hub.dev/problems/validation"
    assert body["errors"] == [{"loc": ["query", param], "msg": error.message}]
    assert body["detail"] == error.message


def test_defaults_and_blank_values() -> None:
    for query in ({}, {"period": "", "compare": " ", "interval": ""}):
        resolved = resolve_period(timezone="Europe/Warsaw", now=NOW, **query)
        assert resolved.preset is Preset.LAST_30_DAYS
        assert resolved.comparison is not None
        assert resolved.comparison.type is CompareMode.PREVIOUS_PERIOD
        assert resolved.interval is Interval.DAY


def test_dates_may_be_passed_as_dates() -> None:
    resolved = resolve_period(
        timezone="UTC", now=NOW, period="custom", start=D("2026-11-01"), end=D("2026-11-10")
    )
    assert resolved.period == rng("2026-11-01", "2026-11-10")


def test_resolve_query_reads_the_five_parameters_and_ignores_others() -> None:
    resolved = resolve_query(
        {
            "period": "custom",
            "start": "2026-01-15",
            "end": "2026-04-10",
            "compare": "previous_year",
            "cursor": "abc",
            "days": "30",
        },
        timezone="America/New_York",
        now=NOW,
    )
    assert resolved.period_json() == {
        "start": "2026-01-15",
        "end": "2026-04-10",
        "timezone": "America/New_York",
    }
    assert resolved.comparison_json() == {
        "start": "2025-01-15",
        "end": "2025-04-10",
        "type": "previous_year",
    }
    assert resolved.interval is Interval.WEEK
    assert resolve_query(None, timezone="UTC", now=NOW).preset is Preset.LAST_30_DAYS


def test_date_range_rejects_reversed_dates() -> None:
    with pytest.raises(ValueError, match="starts after it ends"):
        rng("2026-11-02", "2026-11-01")


# ---------------------------------------------------------------- in a handler


def dashboard_app(path: str) -> APIGatewayHttpResolver:
    app = make_app()

    @app.get(path)
    def dashboard(
        period: PeriodParam = DEFAULT_PRESET,
        start: StartParam = None,
        end: EndParam = None,
        compare: CompareParam = DEFAULT_COMPARE,
        interval: IntervalParam = None,
    ) -> dict[str, Any]:
        resolved = resolve_period(
            timezone="Europe/Warsaw",
            now=NOW,
            period=period,
            start=start,
            end=end,
            compare=compare,
            interval=interval,
        )
        return {
            "period": resolved.period_json(),
            "comparison": resolved.comparison_json(),
            "interval": resolved.interval.value,
            "series": [bucket.start.isoformat() for bucket in resolved.buckets],
        }

    return app


def call(app: APIGatewayHttpResolver, path: str, query: str) -> tuple[int, dict[str, Any]]:
    response = app.resolve(http_event("GET", path, query=query), LambdaContextStub())
    return response["statusCode"], json.loads(response["body"])


class LambdaContextStub:
    function_name = "test"
    aws_request_id = "req"


# Two apps in one process, as in the local stack, share the annotations.
OVERVIEW, SERIES = dashboard_app("/v1/t/overview"), dashboard_app("/v1/t/series")


def test_a_handler_declaring_the_parameters_resolves_them() -> None:
    status, body = call(OVERVIEW, "/v1/t/overview", "")
    assert status == 200
    assert body["period"] == {
        "start": "2026-10-25",
        "end": "2026-11-23",
        "timezone": "Europe/Warsaw",
    }
    status, body = call(
        SERIES,
        "/v1/t/series",
        "period=custom&start=2026-11-04&end=2026-11-23&compare=none&interval=week",
    )
    assert status == 200
    assert body["comparison"] is None
    assert body["series"] == ["2026-11-04", "2026-11-09", "2026-11-16", "2026-11-23"]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("period=last_week", "period"),
        ("compare=yesterday", "compare"),
        ("interval=hour", "interval"),
        ("period=custom&start=2026-11-04", "end"),
        ("start=2026-11-04", "start"),
        ("period=custom&start=2025-01-01&end=2026-11-23", "end"),
    ],
)
def test_invalid_parameters_in_a_handler_are_422_problems(query: str, param: str) -> None:
    status, body = call(OVERVIEW, "/v1/t/overview", query)
    assert status == 422
    assert body["type"] == "https://customer-hub.dev/problems/validation"
    assert body["errors"][0]["loc"] == ["query", param]


def test_the_parameters_are_documented_in_openapi() -> None:
    schema = OVERVIEW.get_openapi_schema().model_dump(mode="json", by_alias=True, exclude_none=True)
    parameters = {p["name"]: p for p in schema["paths"]["/v1/t/overview"]["get"]["parameters"]}
    assert set(parameters) == {"period", "start", "end", "compare", "interval"}
    assert all(p["in"] == "query" and not p["required"] for p in parameters.values())
    assert parameters["period"]["schema"]["default"] == "last_30_days"
    assert schema["components"]["schemas"]["Preset"]["enum"] == [p.value for p in Preset]
    assert parameters["start"]["schema"]["format"] == "date"
