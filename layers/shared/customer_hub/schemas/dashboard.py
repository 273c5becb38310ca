"""Success bodies of the merchant dashboard routes (`/v1/dashboard/...`, API.md §Dashboard)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from customer_hub.metrics.periods import CompareMode, Interval
from customer_hub.schemas import LocalDate, Money, ResponseModel, Timestamp


class Period(ResponseModel):
    """The dates asked for (both inclusive) in the merchant's time zone."""

    start: LocalDate
    end: LocalDate
    timezone: str = Field(examples=["Europe/Warsaw"])


class Comparison(ResponseModel):
    """The dates compared with (null for `compare=none`)."""

    start: LocalDate
    end: LocalDate
    type: CompareMode


class Total(ResponseModel):
    value: int


class Compared(ResponseModel):
    """`previous` and `change_pct` are null without a comparison; `change_pct` (one decimal)
    is also null when `previous` is 0."""

    value: int
    previous: int | None
    change_pct: float | None


class ComparedMoney(ResponseModel):
    value: Money
    previous: Money | None
    change_pct: float | None


class Overview(ResponseModel):
    """GET /v1/dashboard/overview."""

    data_available: bool = Field(description="false before the hub's first launch")
    period: Period
    comparison: Comparison | None
    total_accounts: Total
    service_interactions: Compared
    active_accounts: Compared
    revenue_generated: ComparedMoney
    report_url: str = Field(
        examples=["/v1/dashboard/revenue-report?period=custom&start=2026-10-25&end=2026-11-23"]
    )


class ServiceTotals(ResponseModel):
    """Service interactions per type (SPEC §5)."""

    order_tracked: int
    return_started: int
    coupon_applied: int
    help_clicked: int
    chat_started: int


class ServicePoint(ResponseModel):
    """One interval of the chart, zero-filled."""

    start: LocalDate
    order_tracked: int
    return_started: int
    coupon_applied: int
    help_clicked: int
    chat_started: int


class ServiceInteractions(ResponseModel):
    """GET /v1/dashboard/service-interactions."""

    data_available: bool
    period: Period
    comparison: Comparison | None
    interval: Interval
    totals: ServiceTotals
    previous_totals: ServiceTotals | None
    series: list[ServicePoint]


class AovPoint(ResponseModel):
    """One interval of the chart; `aov` is null for an interval without orders."""

    start: LocalDate
    aov: Money | None
    orders: int
    revenue: Money


class AverageOrderValue(ResponseModel):
    """GET /v1/dashboard/average-order-value: revenue / orders of logged-in checkouts over
    the whole period (never a mean of daily means); null without orders."""

    data_available: bool
    period: Period
    comparison: Comparison | None
    interval: Interval
    value: Money | None
    previous: Money | None
    change_pct: float | None
    orders: int
    revenue: Money
    series: list[AovPoint]


class ReportLine(ResponseModel):
    order_id: str
    order_name: str
    product_id: str | None
    product_title: str
    quantity: int
    amount: Money
    touchpoint: Literal["product_clicked", "product_added_to_cart", "buy_again_clicked", "coupon"]
    touchpoint_at: Timestamp
    ordered_at: Timestamp


class RevenueReport(ResponseModel):
    """GET /v1/dashboard/revenue-report: attributed order lines, newest order first."""

    period: Period
    total: Money = Field(description="revenue generated over the whole period (all pages)")
    lines: list[ReportLine]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class InactiveAccount(ResponseModel):
    customer_id: str
    email: str | None
    last_opened_at: Timestamp | None = Field(description="null: never opened since launch")


class InactiveAccounts(ResponseModel):
    """GET /v1/dashboard/inactive-accounts."""

    days: int
    accounts: list[InactiveAccount]
    next_cursor: str | None
