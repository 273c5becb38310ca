"""Generated shopper traffic: hub events and Shopify webhook bodies in Shopify's own shape.

One seeded generator feeds the demo data, the integration scenario and the benchmarks. Order
bodies follow the captured `orders/create` bodies in `shared/reference/shopify/` (amounts as
decimal strings, `*_set.shop_money`, `discount_allocations` per line, `discount_codes`).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from customer_hub.metrics.hub_events import SERVICE_INTERACTIONS, TOUCHPOINTS


def _amount(minor: int) -> str:
    return str((Decimal(minor) / 100).quantize(Decimal("0.01")))


def _money_set(minor: int, currency: str) -> dict[str, Any]:
    money = {"amount": _amount(minor), "currency_code": currency}
    return {"shop_money": money, "presentment_money": dict(money)}


def _shopify_time(moment: datetime, offset_hours: int = -5) -> str:
    """Shopify sends the shop's local offset (e.g. 2025-01-23T23:10:15-05:00)."""
    return moment.astimezone(timezone(timedelta(hours=offset_hours))).isoformat(timespec="seconds")


@dataclass
class Line:
    product_id: int
    title: str
    quantity: int
    price: int  # minor units per unit
    discount: int = 0  # minor units allocated to the line


def shopify_order(
    order_id: int,
    created_at: datetime,
    lines: list[Line],
    *,
    customer: dict[str, Any] | None = None,
    codes: list[str] | None = None,
    currency: str = "USD",
    shipping: int = 0,
) -> dict[str, Any]:
    """An orders/create body in the shape Shopify sends."""
    gross = sum(line.price * line.quantity for line in lines)
    discounts = sum(line.discount for line in lines)
    subtotal = gross - discounts
    total = subtotal + shipping
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id % 100000}",
        "order_number": order_id % 100000,
        "created_at": _shopify_time(created_at),
        "processed_at": _shopify_time(created_at),
        "currency": currency,
        "presentment_currency": currency,
        "email": customer.get("email", "") if customer else "",
        "financial_status": "paid",
        "subtotal_price": _amount(subtotal),
        "subtotal_price_set": _money_set(subtotal, currency),
        "total_price": _amount(total),
        "total_price_set": _money_set(total, currency),
        "total_discounts": _amount(discounts),
        "total_discounts_set": _money_set(discounts, currency),
        "total_line_items_price": _amount(gross),
        "total_line_items_price_set": _money_set(gross, currency),
        "total_shipping_price_set": _money_set(shipping, currency),
        "discount_codes": [
            {"code": code, "amount": _amount(discounts), "type": "percentage"}
            for code in codes or []
        ],
        "customer": customer,
        "line_items": [
            {
                "id": order_id * 100 + index,
                "admin_graphql_api_id": f"gid://shopify/LineItem/{order_id * 100 + index}",
                "product_id": line.product_id,
                "variant_id": line.product_id * 10,
                "title": line.title,
                "name": line.title,
                "quantity": line.quantity,
                "current_quantity": line.quantity,
                "price": _amount(line.price),
                "price_set": _money_set(line.price, currency),
                "total_discount": "0.00",
                "total_discount_set": _money_set(0, currency),
                "discount_allocations": (
                    [
                        {
                            "amount": _amount(line.discount),
                            "amount_set": _money_set(line.discount, currency),
                            "discount_application_index": 0,
                        }
                    ]
                    if line.discount
                    else []
                ),
                "tax_lines": [],
                "duties": [],
            }
            for index, line in enumerate(lines)
        ],
        "shipping_lines": [],
        "refunds": [],
    }


def shopify_customer(
    customer_id: int, email: str, created_at: datetime, state: str = "enabled"
) -> dict[str, Any]:
    """A customers/create body (the fields we read, plus a few Shopify always sends)."""
    return {
        "id": customer_id,
        "email": email,
        "created_at": _shopify_time(created_at),
        "updated_at": _shopify_time(created_at),
        "first_name": "Demo",
        "last_name": f"Shopper {customer_id}",
        "state": state,
        "verified_email": True,
        "tags": "",
        "currency": "USD",
        "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
    }


def order_customer(customer_id: int, email: str, state: str = "enabled") -> dict[str, Any]:
    return {"id": customer_id, "email": email, "state": state}


@dataclass
class Shopper:
    customer_id: str
    email: str
    state: str  # "enabled" or "disabled" (no account login)
    created_at: datetime


@dataclass
class Delivery:
    """One request reaching the API at `at`: a shopper's event batch or a Shopify webhook."""

    at: datetime
    shopper: Shopper | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    topic: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    webhook_id: str = ""


@dataclass
class Traffic:
    """What happened, in arrival order (repeated deliveries included)."""

    shoppers: list[Shopper] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)


# Seconds from the last hub interaction of a session to the order: inside the window, at its
# edge to the second (86 400 s is still inside, 86 401 s is not), and well outside.
ORDER_DELAYS = [60, 3600, 20 * 3600, 86399, 86400, 86401, 40 * 3600]
PRODUCTS = [(9_782_123_692_332 + n, f"Product {n}", 1500 + 250 * n) for n in range(12)]


def generate(
    *,
    seed: int,
    start: datetime,
    days: int,
    shoppers: int,
    sessions_per_day: float = 4.0,
    duplicate_rate: float = 0.05,
) -> Traffic:
    """Traffic over `days` days from `start` (UTC): accounts, hub sessions with opens,
    service interactions and touch-points, coupons, orders (some inside the 24-hour window,
    some outside, some arriving before the touch-point that attributes them), guests, and
    repeated deliveries. Deterministic for a seed."""
    rng = random.Random(seed)
    traffic = Traffic()
    timed: list[Delivery] = []
    for n in range(shoppers):
        created = start + timedelta(seconds=rng.randrange(days * 86400 // 2))
        shopper = Shopper(
            customer_id=str(8_000_000 + n),
            email=f"shopper{n}@example.com",
            state="enabled" if rng.random() < 0.85 else "disabled",
            created_at=created,
        )
        traffic.shoppers.append(shopper)
        body = shopify_customer(int(shopper.customer_id), shopper.email, created, shopper.state)
        timed.append(Delivery(created, topic="customers/create", body=body, webhook_id=f"wh-c-{n}"))
    order_id = 5_000_000_000
    sessions = int(days * sessions_per_day)
    for _ in range(sessions):
        shopper = rng.choice(traffic.shoppers)
        at = start + timedelta(seconds=rng.randrange(days * 86400))
        events: list[dict[str, Any]] = [_event(rng, "hub_opened", at)]
        moment = at
        for _ in range(rng.randrange(0, 4)):
            moment += timedelta(seconds=rng.randrange(5, 600))
            kind = rng.choice([*SERVICE_INTERACTIONS, *TOUCHPOINTS, *TOUCHPOINTS])
            event = _event(rng, kind, moment)
            if kind in TOUCHPOINTS:
                event["product_id"] = str(rng.choice(PRODUCTS)[0])
            if kind == "coupon_applied":
                event["coupon_code"] = f"HUB-{rng.randrange(1000):04d}"
            events.append(event)
        late = rng.random() < 0.15  # the storefront's report reaches us after the order
        arrival = moment + (timedelta(hours=30) if late else timedelta())
        timed.append(Delivery(arrival, shopper=shopper, events=events))
        if rng.random() < 0.5:
            order_id += 1
            order_at = moment + timedelta(seconds=rng.choice(ORDER_DELAYS))
            touched = [int(e["product_id"]) for e in events if "product_id" in e]
            picks = rng.sample(PRODUCTS, rng.randrange(1, 4))
            if touched and rng.random() < 0.7:
                picks.append(next(p for p in PRODUCTS if p[0] == touched[0]))
            lines = [
                Line(pid, title, rng.randrange(1, 3), price, rng.choice([0, 0, 100, 250]))
                for pid, title, price in {p[0]: p for p in picks}.values()
            ]
            coupon_codes = [e["coupon_code"] for e in events if e.get("coupon_code")]
            codes = coupon_codes[:1] if coupon_codes and rng.random() < 0.6 else []
            if not codes and rng.random() < 0.2:
                codes = ["WELCOME10"]
            guest = rng.random() < 0.1
            customer = (
                None
                if guest
                else order_customer(int(shopper.customer_id), shopper.email, shopper.state)
            )
            body = shopify_order(order_id, order_at, lines, customer=customer, codes=codes)
            timed.append(
                Delivery(order_at, topic="orders/create", body=body, webhook_id=f"wh-o-{order_id}")
            )
    timed.sort(key=lambda delivery: delivery.at)
    for delivery in timed:
        traffic.deliveries.append(delivery)
        if rng.random() < duplicate_rate:
            traffic.deliveries.append(delivery)  # a retried request / redelivered webhook
    return traffic


def _event(rng: random.Random, kind: str, at: datetime) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "type": kind,
        "occurred_at": at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }
