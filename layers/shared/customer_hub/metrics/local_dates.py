"""Local dates for the dashboard: ranges, presets, comparisons and chart buckets.

Pure functions over `datetime.date`: no I/O, no clock. The rules are in
`customer_hub.metrics.periods` (which resolves a dashboard query with them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from customer_hub.problems import ValidationProblem

MAX_DAYS = 366
DAY_INTERVAL_MAX_DAYS = 31
WEEK_INTERVAL_MAX_DAYS = 120
MIN_DATE = date(1971, 1, 1)
MAX_DATE = date(9998, 12, 31)


class Preset(StrEnum):
    TODAY = "today"
    YESTERDAY = "yesterday"
    LAST_7_DAYS = "last_7_days"
    LAST_30_DAYS = "last_30_days"
    LAST_90_DAYS = "last_90_days"
    WEEK_TO_DATE = "week_to_date"
    MONTH_TO_DATE = "month_to_date"
    LAST_MONTH = "last_month"
    CUSTOM = "custom"


class CompareMode(StrEnum):
    PREVIOUS_PERIOD = "previous_period"
    PREVIOUS_YEAR = "previous_year"
    NONE = "none"


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


DEFAULT_PRESET = Preset.LAST_30_DAYS
DEFAULT_COMPARE = CompareMode.PREVIOUS_PERIOD


class PeriodError(ValidationProblem, ValueError):
    """An invalid dashboard query parameter; `param` is its name (`period`, `start`, ...).

    Both a `ValueError` and a 422 problem (`errors: [{"loc": ["query", param], "msg": ...}]`),
    so a handler built with `customer_hub.edge.http.make_app` can simply let it propagate.
    """

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message, errors=[{"loc": ["query", param], "msg": message}])
        self.param = param
        self.message = message


@dataclass(frozen=True, slots=True)
class DateRange:
    """Local dates `start` .. `end`, both inclusive."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"range starts after it ends: {self.start} > {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def dates(self) -> Iterator[date]:
        for offset in range(self.days):
            yield self.start + timedelta(days=offset)

    def utc_bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants `[first, after)` covering these local days (DST-safe)."""
        return local_midnight(self.start, zone), local_midnight(self.end + timedelta(days=1), zone)

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `zone`.

    Where midnight falls in a DST gap (clocks jump from 24:00 to 01:00), `fold=0` takes the
    offset in force before the jump, which is exactly the instant the day begins.
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants `[first, after)` of one local day: 23, 24 or 25 hours long."""
    return DateRange(day, day).utc_bounds(zone)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The merchant's calendar date at a (timezone-aware) instant."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no instant; pass a UTC datetime")
    return moment.astimezone(zone).date()


def zone_of(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {timezone!r}") from exc


# ---------------------------------------------------------------- presets


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _last_of_month(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _last_days(today: date, count: int) -> DateRange:
    return DateRange(today - timedelta(days=count - 1), today)


def preset_range(preset: Preset, today: date) -> DateRange:
    """The dates of a preset on the merchant's `today` (not `custom`)."""
    match preset:
        case Preset.TODAY:
            return DateRange(today, today)
        case Preset.YESTERDAY:
            yesterday = today - timedelta(days=1)
            return DateRange(yesterday, yesterday)
        case Preset.LAST_7_DAYS:
            return _last_days(today, 7)
        case Preset.LAST_30_DAYS:
            return _last_days(today, 30)
        case Preset.LAST_90_DAYS:
            return _last_days(today, 90)
        case Preset.WEEK_TO_DATE:
            return DateRange(_monday(today), today)
        case Preset.MONTH_TO_DATE:
            return DateRange(_first_of_month(today), today)
        case Preset.LAST_MONTH:
            last_day = _first_of_month(today) - timedelta(days=1)
            return DateRange(_first_of_month(last_day), last_day)
        case Preset.CUSTOM:
            raise ValueError("custom periods take explicit start and end dates")


def custom_range(start: date, end: date) -> DateRange:
    """A custom period, validated: start <= end, at most 366 days, sane years."""
    for name, day in (("start", start), ("end", end)):
        if not MIN_DATE <= day <= MAX_DATE:
            raise PeriodError(
                name, f"{name} must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}"
            )
    if start > end:
        raise PeriodError(
            "start", f"start ({start.isoformat()}) must not be after end ({end.isoformat()})"
        )
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise PeriodError(
            "end",
            f"a custom period covers at most {MAX_DAYS} days (both ends included); "
            f"{start.isoformat()}..{end.isoformat()} covers {days}",
        )
    return DateRange(start, end)


# ---------------------------------------------------------------- comparisons


def _one_year_earlier(day: date) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def comparison_range(period: DateRange, mode: CompareMode) -> DateRange | None:
    """The range a period is compared with, or None for `none`."""
    match mode:
        case CompareMode.PREVIOUS_PERIOD:
            end = period.start - timedelta(days=1)
            return DateRange(end - timedelta(days=period.days - 1), end)
        case CompareMode.PREVIOUS_YEAR:
            return DateRange(_one_year_earlier(period.start), _one_year_earlier(period.end))
        case CompareMode.NONE:
            return None


# ---------------------------------------------------------------- chart buckets


def default_interval(days: int) -> Interval:
    if days <= DAY_INTERVAL_MAX_DAYS:
        return Interval.DAY
    if days <= WEEK_INTERVAL_MAX_DAYS:
        return Interval.WEEK
    return Interval.MONTH


def _unclipped_bucket(day: date, interval: Interval) -> DateRange:
    match interval:
        case Interval.DAY:
            return DateRange(day, day)
        case Interval.WEEK:
            monday = _monday(day)
            return DateRange(monday, monday + timedelta(days=6))
        case Interval.MONTH:
            return DateRange(_first_of_month(day), _last_of_month(day))


def bucket_of(day: date, period: DateRange, interval: Interval) -> DateRange | None:
    """The (clipped) bucket of `period` that holds `day`, or None when `day` is outside it."""
    if day not in period:
        return None
    whole = _unclipped_bucket(day, interval)
    return DateRange(max(whole.start, period.start), min(whole.end, period.end))


def buckets(period: DateRange, interval: Interval) -> tuple[DateRange, ...]:
    """The chart buckets of a period, in order, first and last clipped to the period."""
    result = []
    day = period.start
    while day <= period.end:
        bucket = bucket_of(day, period, interval)
        assert bucket is not None  # day lies in period by the loop condition
        result.append(bucket)
        day = bucket.end + timedelta(days=1)
    return tuple(result)
