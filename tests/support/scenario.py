"""A generated multi-week scenario played through the real handlers, and its brute force.

`brute_force` recomputes every figure straight from the raw deliveries with plain loops —
deliberately sharing no code with `customer_hub.metrics.model` — so the roll-ups can be checked.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from customer_hub.infra import clock
from customer_hub.merchants.profiles import CreatedMerchant
from hubdev.stack import LocalStack
from hubdev.traffic import Traffic, generate
from tests.support.api import InProcessApi
from tests.support.hub import post_events, send_webhook

SCENARIO_START = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)  # spans Warsaw's DST switch (25 Oct)
SCENARIO_DAYS = 28


def scenario_traffic(seed: int = 11, shoppers: int = 20, sessions_per_day: float = 4.0) -> Traffic:
    return generate(
        seed=seed,
        start=SCENARIO_START,
        days=SCENARIO_DAYS,
        shoppers=shoppers,
        sessions_per_day=sessions_per_day,
    )


def play(
    api: InProcessApi,
    stack: LocalStack,
    merchant: CreatedMerchant,
    traffic: Traffic,
    monkeypatch: pytest.MonkeyPatch,
    drain_every: int = 40,
) -> None:
    """Every delivery at its own arrival time (the API checks the 7-day window against it)."""
    for n, delivery in enumerate(traffic.deliveries, 1):
        arrival = delivery.at + timedelta(seconds=1)
        monkeypatch.setattr(clock, "now", lambda arrival=arrival: arrival)
        if delivery.shopper is not None:
            reply = post_events(
                api,
                merchant,
                delivery.events,
                customer_id=delivery.shopper.customer_id,
                email=delivery.shopper.email,
            )
            assert reply.status == 202, reply.body
        else:
            reply = send_webhook(
                api, merchant, delivery.topic, delivery.body, webhook_id=delivery.webhook_id
            )
            assert reply.status == 200, reply.body
        if n % drain_every == 0:
            stack.drain()
    stack.drain()
    monkeypatch.undo()


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _minor(amount: str) -> int:
    return int(Decimal(amount) * 100)


@dataclass
class Expected:
    service: dict[date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    openers: dict[date, set[str]] = field(default_factory=lambda: defaultdict(set))
    new_accounts: Counter[date] = field(default_factory=Counter)
    aov_orders: Counter[date] = field(default_factory=Counter)
    aov_revenue: Counter[date] = field(default_factory=Counter)
    revenue: Counter[date] = field(default_factory=Counter)
    report: list[dict[str, Any]] = field(default_factory=list)
    last_opened: dict[str, datetime] = field(default_factory=dict)
    accounts: set[str] = field(default_factory=set)

    def active(self, first: date, last: date) -> int:
        seen: set[str] = set()
        day = first
        while day <= last:
            seen |= self.openers.get(day, set())
            day += timedelta(days=1)
        return len(seen)

    def total(self, counter: Callable[[date], int], first: date, last: date) -> int:
        return sum(counter(first + timedelta(days=n)) for n in range((last - first).days + 1))


SERVICE = ("order_tracked", "return_started", "coupon_applied", "help_clicked", "chat_started")
TOUCH = ("product_clicked", "product_added_to_cart", "buy_again_clicked")


def brute_force(traffic: Traffic, zone: ZoneInfo) -> Expected:
    expected = Expected()
    events: dict[str, dict[str, Any]] = {}
    webhooks: dict[str, Any] = {}
    orders: dict[str, dict[str, Any]] = {}
    for delivery in traffic.deliveries:
        if delivery.shopper is not None:
            for event in delivery.events:
                events.setdefault(event["id"], {**event, "customer": delivery.shopper.customer_id})
        elif delivery.webhook_id not in webhooks:
            webhooks[delivery.webhook_id] = delivery
            if delivery.topic == "orders/create":
                orders.setdefault(str(delivery.body["id"]), delivery.body)
            else:
                customer = delivery.body
                expected.accounts.add(str(customer["id"]))
                expected.new_accounts[_utc(customer["created_at"]).astimezone(zone).date()] += 1
    for event in events.values():
        at = _utc(event["occurred_at"])
        day = at.astimezone(zone).date()
        if event["type"] in SERVICE:
            expected.service[day][event["type"]] += 1
        if event["type"] == "hub_opened":
            expected.openers[day].add(event["customer"])
            expected.accounts.add(event["customer"])
            previous = expected.last_opened.get(event["customer"])
            expected.last_opened[event["customer"]] = max(at, previous) if previous else at
    for body in orders.values():
        ordered = _utc(body["created_at"])
        day = ordered.astimezone(zone).date()
        customer = body.get("customer")
        if customer and customer.get("state") == "enabled":
            expected.aov_orders[day] += 1
            expected.aov_revenue[day] += _minor(body["total_price_set"]["shop_money"]["amount"])
        if not customer:
            continue
        mine = [
            e
            for e in events.values()
            if e["customer"] == str(customer["id"])
            and ordered - timedelta(hours=24) <= _utc(e["occurred_at"]) < ordered
        ]
        codes = {c["code"].lower() for c in body["discount_codes"]}
        coupon = any(
            e["type"] == "coupon_applied" and (e.get("coupon_code") or "").lower() in codes
            for e in mine
        )
        for line in body["line_items"]:
            touched = [
                e
                for e in mine
                if e["type"] in TOUCH and e.get("product_id") == str(line["product_id"])
            ]
            if not touched and not coupon:
                continue
            amount = _minor(line["price_set"]["shop_money"]["amount"]) * line["quantity"] - sum(
                _minor(a["amount_set"]["shop_money"]["amount"])
                for a in line["discount_allocations"]
            )
            expected.revenue[day] += amount
            expected.report.append(
                {
                    "order_id": str(body["id"]),
                    "product_id": str(line["product_id"]),
                    "amount": amount,
                    "touchpoint": max(touched, key=lambda e: e["occurred_at"])["type"]
                    if touched
                    else "coupon",
                    "ordered_at": ordered,
                }
            )
    return expected


def dashboard_body(api: InProcessApi, merchant: CreatedMerchant, route: str, **query: Any) -> Any:
    """GET /v1/dashboard/<route> with the merchant's key: the 200 body."""
    reply = api.get(f"/v1/dashboard/{route}", api_key=merchant.api_key, query=query)
    assert reply.status == 200, reply.body
    return reply.json


def money(minor: int) -> dict[str, str]:
    """A USD money object as the dashboard writes it."""
    return {"amount": f"{minor / 100:.2f}", "currency": "USD"}
