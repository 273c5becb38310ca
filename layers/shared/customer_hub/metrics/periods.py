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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler.openapi.params import Query

from customer_hub.metrics.local_dates import (
    DAY_INTERVAL_MAX_DAYS,
    DEFAULT_COMPARE,
    DEFAULT_PRESET,
    MAX_DATE,
    MAX_DAYS,
    MIN_DATE,
    WEEK_INTERVAL_MAX_DAYS,
    CompareMode,
    DateRange,
    Interval,
    PeriodError,
    Preset,
    bucket_of,
    buckets,
    comparison_range,
    custom_range,
    default_interval,
    local_date,
    local_day_bounds,
    local_midnight,
    preset_range,
    zone_of,
)

__all__ = [
    "DAY_INTERVAL_MAX_DAYS",
    "DEFAULT_COMPARE",
    "DEFAULT_PRESET",
    "MAX_DATE",
    "MAX_DAYS",
    "MIN_DATE",
    "WEEK_INTERVAL_MAX_DAYS",
    "CompareMode",
    "CompareParam",
    "Comparison",
    "DashboardPeriod",
    "DateRange",
    "EndParam",
    "Interval",
    "IntervalParam",
    "PeriodError",
    "PeriodParam",
    "Preset",
    "StartParam",
    "bucket_of",
    "buckets",
    "comparison_range",
    "custom_range",
    "default_interval",
    "local_date",
    "local_day_bounds",
    "local_midnight",
    "preset_range",
    "resolve_period",
    "resolve_query",
    "zone_of",
]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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
