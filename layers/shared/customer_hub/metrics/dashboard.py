"""The merchant dashboard (SPEC §6): every figure read from the roll-ups, never from events.

Cost of a request, whatever the traffic: the merchant profile (1 GetItem), one Query of day
items per range (period, comparison), one BatchGetItem for exact active accounts of both
ranges, one GetItem for totals — a 366-day overview with its comparison is 5 requests.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from customer_hub import money
from customer_hub.infra import clock
from customer_hub.merchants.profiles import Merchant, get_merchant
from customer_hub.metrics.dynamo_store import DynamoMetricsStore
from customer_hub.metrics.hub_events import SERVICE_INTERACTIONS
from customer_hub.metrics.keys import NEVER_OPENED, accounts_pk, revenue_pk
from customer_hub.metrics.model import AOV_ORDERS, AOV_REVENUE, REVENUE, SERVICE_FIELDS
from customer_hub.metrics.periods import DashboardPeriod, DateRange, resolve_period
from customer_hub.metrics.rollup_reads import active_accounts, day_counters, totals
from customer_hub.problems import validation_error

REPORT_PAGE_ORDERS = 50
ACCOUNTS_PAGE = 100


def request(
    merchant_id: str,
    *,
    period: str,
    start: str | None,
    end: str | None,
    compare: str,
    interval: str | None,
) -> tuple[Merchant, DashboardPeriod]:
    """The merchant and its resolved period (in its time zone, as of now) for a dashboard route."""
    merchant = get_merchant(merchant_id)
    when = resolve_period(
        timezone=merchant.timezone,
        now=clock.now(),
        period=period,
        start=start,
        end=end,
        compare=compare,
        interval=interval,
    )
    return merchant, when


def change_pct(current: int, previous: int | None) -> float | None:
    """(current - previous) / previous x 100, one decimal; None when previous is 0."""
    if not previous:
        return None
    return round((current - previous) / previous * 100, 1)


def _sum(counters: dict[date, dict[str, int]], name: str, span: DateRange | None = None) -> int:
    return sum(
        c.get(name, 0)
        for day, c in counters.items()
        if span is None or span.start <= day <= span.end
    )


def _counters(merchant: Merchant, span: DateRange | None) -> dict[date, dict[str, int]]:
    return day_counters(merchant.merchant_id, span.start, span.end) if span else {}


def _money(merchant: Merchant, minor: int) -> money.MoneyJSON:
    return money.to_json(minor, merchant.currency)


def overview(merchant: Merchant, when: DashboardPeriod) -> dict[str, Any]:
    comparison = when.comparison.range if when.comparison else None
    current = _counters(merchant, when.period)
    previous = _counters(merchant, comparison)
    ranges = [(when.start, when.end)] + ([(comparison.start, comparison.end)] if comparison else [])
    counts = totals(merchant.merchant_id)
    active = active_accounts(merchant.merchant_id, ranges, counts.get("next_ordinal", 0))
    service_now = sum(_sum(current, SERVICE_FIELDS[t]) for t in SERVICE_INTERACTIONS)
    service_before = sum(_sum(previous, SERVICE_FIELDS[t]) for t in SERVICE_INTERACTIONS)
    revenue_now, revenue_before = _sum(current, REVENUE), _sum(previous, REVENUE)
    active_before = active[1] if comparison else None

    def compared(value: Any, now: int, before: int | None) -> dict[str, Any]:
        if comparison is None:
            return {"value": value, "previous": None, "change_pct": None}
        return {"value": value, "previous": before, "change_pct": change_pct(now, before)}

    revenue = compared(_money(merchant, revenue_now), revenue_now, revenue_before)
    if comparison is not None:
        revenue["previous"] = _money(merchant, revenue_before)
    return {
        "data_available": merchant.launched_at is not None,
        "period": when.period_json(),
        "comparison": when.comparison_json(),
        "total_accounts": {"value": counts.get("accounts", 0)},
        "service_interactions": compared(service_now, service_now, service_before),
        "active_accounts": compared(active[0], active[0], active_before),
        "revenue_generated": revenue,
        "report_url": "/v1/dashboard/revenue-report?" + urlencode(when.custom_query()),
    }


def service_interactions(merchant: Merchant, when: DashboardPeriod) -> dict[str, Any]:
    comparison = when.comparison.range if when.comparison else None
    current = _counters(merchant, when.period)
    previous = _counters(merchant, comparison)
    return {
        "data_available": merchant.launched_at is not None,
        "period": when.period_json(),
        "comparison": when.comparison_json(),
        "interval": when.interval.value,
        "totals": {t: _sum(current, SERVICE_FIELDS[t]) for t in SERVICE_INTERACTIONS},
        "previous_totals": (
            {t: _sum(previous, SERVICE_FIELDS[t]) for t in SERVICE_INTERACTIONS}
            if comparison
            else None
        ),
        "series": [
            {
                "start": bucket.start.isoformat(),
                **{t: _sum(current, SERVICE_FIELDS[t], bucket) for t in SERVICE_INTERACTIONS},
            }
            for bucket in when.buckets
        ],
    }


def _aov(merchant: Merchant, revenue: int, orders: int) -> money.MoneyJSON | None:
    return _money(merchant, round(revenue / orders)) if orders else None


def average_order_value(merchant: Merchant, when: DashboardPeriod) -> dict[str, Any]:
    """AOV of logged-in checkouts = revenue / orders over the whole period (not a mean of
    daily means)."""
    comparison = when.comparison.range if when.comparison else None
    current = _counters(merchant, when.period)
    previous = _counters(merchant, comparison)
    revenue, orders = _sum(current, AOV_REVENUE), _sum(current, AOV_ORDERS)
    before_revenue, before_orders = _sum(previous, AOV_REVENUE), _sum(previous, AOV_ORDERS)
    value = round(revenue / orders) if orders else None
    before = round(before_revenue / before_orders) if before_orders else None
    return {
        "data_available": merchant.launched_at is not None,
        "period": when.period_json(),
        "comparison": when.comparison_json(),
        "interval": when.interval.value,
        "value": _aov(merchant, revenue, orders),
        "previous": _aov(merchant, before_revenue, before_orders) if comparison else None,
        "change_pct": change_pct(value, before) if value is not None and before else None,
        "orders": orders,
        "revenue": _money(merchant, revenue),
        "series": [
            {
                "start": bucket.start.isoformat(),
                "aov": _aov(
                    merchant, _sum(current, AOV_REVENUE, bucket), _sum(current, AOV_ORDERS, bucket)
                ),
                "orders": _sum(current, AOV_ORDERS, bucket),
                "revenue": _money(merchant, _sum(current, AOV_REVENUE, bucket)),
            }
            for bucket in when.buckets
        ],
    }


# ------------------------------------------------------------------ cursors
def _encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": sort_key}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> str | None:
    """The sort key to continue after; only a sort key, so a cursor never reaches another
    merchant's partition."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = value["after"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise validation_error(["query", "cursor"], "not a cursor this API returned") from None
    if not isinstance(after, str):
        raise validation_error(["query", "cursor"], "not a cursor this API returned")
    return after


def revenue_report(merchant: Merchant, when: DashboardPeriod, cursor: str | None) -> dict[str, Any]:
    """The attributed order lines behind *revenue generated*, newest order first."""
    first, after = when.utc_bounds()
    low = clock.iso(first)
    high = clock.iso(after - timedelta(seconds=1)) + "~"
    items, last = DynamoMetricsStore().page(
        revenue_pk(merchant.merchant_id),
        (low, high),
        limit=REPORT_PAGE_ORDERS,
        after=_decode_cursor(cursor),
        newest_first=True,
    )
    lines = [
        {
            "order_id": item["order_id"],
            "order_name": item.get("order_name") or "",
            "product_id": line.get("product_id"),
            "product_title": line.get("product_title") or "",
            "quantity": int(line["quantity"]),
            "amount": _money(merchant, int(line["amount"])),
            "touchpoint": line["touchpoint"],
            "touchpoint_at": line["touchpoint_at"],
            "ordered_at": item["ordered_at"],
        }
        for item in items
        for line in item.get("lines") or []
    ]
    total = _sum(_counters(merchant, when.period), REVENUE)
    return {
        "period": when.period_json(),
        "total": _money(merchant, total),
        "lines": lines,
        "next_cursor": _encode_cursor(last) if last else None,
    }


def inactive_accounts(merchant: Merchant, days: int, cursor: str | None) -> dict[str, Any]:
    """Accounts whose last hub visit is more than `days` days ago, or who never opened it:
    the never-opened first, then by last visit. One Query of the `idle` index per page
    (`idle_sk` < the cutoff), so a page costs the same however many accounts are active."""
    cutoff = clock.iso(clock.now() - timedelta(days=days))
    items, last = DynamoMetricsStore().idle_page(
        accounts_pk(merchant.merchant_id),
        (NEVER_OPENED, cutoff),
        limit=ACCOUNTS_PAGE,
        after=_decode_cursor(cursor),
    )
    return {
        "days": days,
        "accounts": [
            {
                "customer_id": str(item["sk"]),
                "email": item.get("email"),
                "last_opened_at": item.get("last_opened_at"),
            }
            for item in items
        ],
        "next_cursor": _encode_cursor(last) if last else None,
    }
