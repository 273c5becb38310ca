"""Dashboard time periods: presets, comparisons and chart buckets (SPEC §6, API.md).

Pure functions over `datetime.date`: no I/O, no clock. Callers pass `now` (a UTC instant) and
the merchant's IANA time zone.

Rules (API.md "Dashboard query parameters"):
- A period is a range of local dates, **both ends inclusive, today included**: on 1 February
  `last_7_days` is 26 January .. 1 February. `week_to_date` starts on Monday (ISO weeks).
  The default period is `last_30_days`.
- `custom` needs `start` and `end` (`YYYY-MM-DD`), start <= end, at most 366 days counting
  both ends. `start` / `end` with any other period is a 422 (they would be silently ignored
  otherwise, and a client sending them means a custom range). Dates must lie in years
  1971..9998 so that comparisons and UTC conversions never overflow. Future dates are allowed
  (their days are simply empty).
- `compare`: `previous_period` (default) is the same number of days immediately before;
  `previous_year` is the same calendar dates one year earlier, 29 February mapping to
  28 February (so a previous-year range can be one day shorter); `none` has no comparison
  (`"comparison": null` in responses).
- `interval` (charts): `day | week | month`; the default depends on the period's length:
  <= 31 days -> `day`, <= 120 days -> `week`, longer -> `month`. Every interval is accepted
  for every valid period: a period is at most 366 days, so a chart has at most 366 daily,
  54 weekly or 13 monthly points, and an interval longer than the period is one clipped point.
  Weeks are ISO weeks (Monday..Sunday), months calendar months; the first and last buckets
  are clipped to the period.
- Blank query values (`?period=`) count as absent.

Every invalid input raises `PeriodError` naming the query parameter: a `ValueError` that is
also the 422 problem+json (`customer_hub.problems.ValidationProblem`).

A dashboard handler declares the five parameters with the annotations at the end of this
module (so they appear in the OpenAPI document) and resolves them with the merchant's zone in
one call, `customer_hub.metrics.dashboard.request`; the routes that answer one figure for a period
are registered by `customer_hub.edge.dashboard_routes.period_route`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aws_lambda_powertools.event_handler.openapi.params import Query

from customer_hub.problems import ValidationProblem

MAX_DAYS = 366
DAY_INTERVAL_MAX_DAYS = 31
WEEK_INTERVAL_MAX_DAYS = 120
MIN_DATE = date(1971, 1, 1)
MAX_DATE = date(9998, 12, 31)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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


# ---------------------------------------------------------------- resolved query


@dataclass(frozen=True, slots=True)
class Comparison:
    type: CompareMode
    range: DateRange

    def to_json(self) -> dict[str, str]:
        return {**self.range.to_json(), "type": self.type.value}


@dataclass(frozen=True, slots=True)
class DashboardPeriod:
    """A dashboard query resolved for one merchant: what every dashboard handler needs."""

    preset: Preset
    period: DateRange
    timezone: str
    comparison: Comparison | None
    interval: Interval
    buckets: tuple[DateRange, ...]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start(self) -> date:
        return self.period.start

    @property
    def end(self) -> date:
        return self.period.end

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """UTC instants `[first, after)` of the period."""
        return self.period.utc_bounds(self.zone)

    def comparison_utc_bounds(self) -> tuple[datetime, datetime] | None:
        if self.comparison is None:
            return None
        return self.comparison.range.utc_bounds(self.zone)

    def bucket_of(self, day: date) -> DateRange | None:
        """The chart bucket holding a local date (None outside the period)."""
        return bucket_of(day, self.period, self.interval)

    def bucket_index(self, day: date) -> int | None:
        """The position in `buckets` of the bucket holding `day` (None outside the period)."""
        bucket = self.bucket_of(day)
        if bucket is None:
            return None
        return self.buckets.index(bucket)

    def local_date(self, moment: datetime) -> date:
        return local_date(moment, self.zone)

    def period_json(self) -> dict[str, str]:
        """API.md `"period": {"start", "end", "timezone"}`."""
        return {**self.period.to_json(), "timezone": self.timezone}

    def comparison_json(self) -> dict[str, str] | None:
        """API.md `"comparison": {"start", "end", "type"}`, or None for `compare=none`."""
        return None if self.comparison is None else self.comparison.to_json()

    def custom_query(self) -> dict[str, str]:
        """Query parameters naming the same dates as a custom period (for links such as
        the overview's `report_url`, so the report stays on these dates tomorrow)."""
        return {"period": Preset.CUSTOM.value, **self.period.to_json()}


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _choice[E: StrEnum](enum: type[E], param: str, raw: str | None, default: E | None) -> E | None:
    value = _blank_to_none(raw)
    if value is None:
        return default
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise PeriodError(param, f"{param} must be one of: {allowed} (got {value!r})") from None


def _parse_date(param: str, raw: str | date | None) -> date | None:
    if raw is None or isinstance(raw, date):
        return raw
    value = _blank_to_none(raw)
    if value is None:
        return None
    if not _ISO_DATE.fullmatch(value):
        raise PeriodError(param, f"{param} must be a date YYYY-MM-DD (got {value!r})")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PeriodError(param, f"{param} is not a calendar date (got {value!r})") from None


def resolve_period(
    *,
    timezone: str,
    now: datetime,
    period: str | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
    compare: str | None = None,
    interval: str | None = None,
) -> DashboardPeriod:
    """Resolve raw dashboard query parameters for a merchant in `timezone` at instant `now`.

    Raises `PeriodError` (-> 422 via `.problem()`) naming the offending parameter.
    """
    zone = zone_of(timezone)
    preset = _choice(Preset, "period", period, DEFAULT_PRESET)
    mode = _choice(CompareMode, "compare", compare, DEFAULT_COMPARE)
    chosen_interval = _choice(Interval, "interval", interval, None)
    start_date = _parse_date("start", start)
    end_date = _parse_date("end", end)
    assert preset is not None and mode is not None  # both have defaults

    if preset is Preset.CUSTOM:
        if start_date is None:
            raise PeriodError("start", "start is required with period=custom")
        if end_date is None:
            raise PeriodError("end", "end is required with period=custom")
        dates = custom_range(start_date, end_date)
    else:
        for name, given in (("start", start_date), ("end", end_date)):
            if given is not None:
                raise PeriodError(
                    name, f"{name} is only allowed with period=custom (period is {preset.value})"
                )
        dates = preset_range(preset, local_date(now, zone))

    compared = comparison_range(dates, mode)
    resolved_interval = chosen_interval or default_interval(dates.days)
    return DashboardPeriod(
        preset=preset,
        period=dates,
        timezone=timezone,
        comparison=None if compared is None else Comparison(mode, compared),
        interval=resolved_interval,
        buckets=buckets(dates, resolved_interval),
    )


QUERY_PARAMETERS = ("period", "start", "end", "compare", "interval")


def resolve_query(
    query: Mapping[str, str | None] | None, *, timezone: str, now: datetime
) -> DashboardPeriod:
    """`resolve_period` from a query-string mapping (API Gateway's `queryStringParameters`);
    parameters other than the five period ones are left to the caller."""
    query = query or {}
    raw: dict[str, Any] = {name: query.get(name) for name in QUERY_PARAMETERS}
    return resolve_period(timezone=timezone, now=now, **raw)


# ---------------------------------------------------------------- handler parameters
# Annotations for a dashboard handler's signature: they document the parameters in the
# OpenAPI document. Unknown enum values are rejected by the resolver's validation (422 at
# `["query", name]`); dates and cross-field rules by `resolve_period` (PeriodError).

PeriodParam = Annotated[
    Preset,
    Query(
        description="Preset period in the merchant's time zone, both ends inclusive, today "
        "included; `custom` takes `start` and `end`."
    ),
]
StartParam = Annotated[
    str | None,
    Query(
        description="First day (YYYY-MM-DD) of a `custom` period; only with `period=custom`.",
        json_schema_extra={"format": "date"},
    ),
]
EndParam = Annotated[
    str | None,
    Query(
        description="Last day (YYYY-MM-DD, inclusive) of a `custom` period, at most "
        f"{MAX_DAYS} days after `start` counting both ends; only with `period=custom`.",
        json_schema_extra={"format": "date"},
    ),
]
CompareParam = Annotated[
    CompareMode,
    Query(
        description="Comparison period: the same number of days immediately before, the same "
        "dates one year earlier (29 February -> 28 February), or none."
    ),
]
IntervalParam = Annotated[
    Interval | None,
    Query(
        description=f"Chart interval; default by period length: <= {DAY_INTERVAL_MAX_DAYS} "
        f"days `day`, <= {WEEK_INTERVAL_MAX_DAYS} days `week`, longer `month`. ISO weeks "
        "start on Monday; first and last buckets are clipped to the period."
    ),
]
