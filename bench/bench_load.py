"""Load on the local stack: concurrent simulated shoppers against `hub dev` (127.0.0.1 only).

`hub dev` runs as a subprocess with its demo data (the demo merchant connected to the Smile
stand-in's 300 demo customers and synced). Each shopper is a distinct customer in one of the
loyalty states (members with points, candidates, excluded, shoppers outside the program) and
creates its Shopify account first (a signed `customers/create` webhook). Then, in a bounded
loop that stops by itself after the duration, it opens the hub (`POST /events` with
`hub_opened`, then `GET /loyalty`, `/rewards`, `/coupons`), reports what it does there in
another events batch (service interactions and product touch-points), sometimes sends a batch
again with the same event ids (a storefront retry), members sometimes redeem "Free shipping"
(100 points, a fresh `Idempotency-Key`, retried with the same key on a retryable problem), and
shoppers sometimes order (a signed Shopify `orders/create` webhook, now and then redelivered
with the same webhook id): touched and untouched products, sometimes the code of a coupon they
redeemed, some checkouts without a logged-in account, some guest checkouts.

Reported: requests per second, p50/p95/p99 per route, errors (target 0), events sent /
accepted / duplicates. Afterwards (`/_local/drain`) every figure the load produced must be
reflected exactly, counted client-side from distinct event ids and webhook ids: the dashboard
(overview, service interactions, average order value, revenue report with the merchant API
key, compared with the same reads before the load), the Smile stand-in (one purchase per
successful redemption, each balance = before - points redeemed) and the hub's loyalty read.

    LOAD_SECONDS=60 LOAD_SHOPPERS=50 .venv/bin/python -m bench.bench_load
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from bench.common import percentile, table, write_result
from customer_hub.identity import mint_customer_token
from customer_hub.metrics.hub_events import SERVICE_INTERACTIONS, TOUCHPOINTS
from hubdev.smile_dev import DEMO_SMILE_KEY
from hubdev.traffic import PRODUCTS, Line, order_customer, shopify_customer, shopify_order
from tests.support.devserver import hub_dev

SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
SHOPPERS = int(os.environ.get("LOAD_SHOPPERS", "50"))
# The same load, shorter, against `hub dev` running moto as it comes (HUBDEV_MOTO_SHORTCUTS=0):
# the baseline measured in the same run; 0 skips it.
BASELINE_SECONDS = float(os.environ.get("LOAD_BASELINE_SECONDS", "20"))
PRODUCT, PRICE = 11, 100  # "Free shipping"
REDEEM_SHARE = 0.15  # of a member's hub visits
MAX_REDEMPTIONS = 3  # per shopper
ORDER_SHARE = 0.12  # of hub visits
RESEND_SHARE = 0.1  # an events batch or a webhook sent again (same ids)
THINK = (0.05, 0.3)  # seconds between two visits of one shopper
PERIOD = {"period": "last_7_days", "compare": "none"}
SEED = 20261123


@dataclass
class Shopper:
    sub: str
    email: str
    state: str  # the Smile state, or "not_member"
    balance: int  # Smile points before the run
    account: str = "enabled"  # the Shopify account state an order names
    token: str = ""
    redeemed: int = 0
    keys: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # redeemed coupon codes not yet used
    pending: list[str] = field(default_factory=list)  # redeemed coupons Smile was issuing


@dataclass
class Sent:
    """What the load sent, as the dashboard must show it (distinct ids only count once)."""

    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → event + customer
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # webhook id → body
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # webhook id → body
    events_sent: int = 0  # every event in every 202 batch, resends included
    accepted: int = 0  # as the API answered
    duplicates: int = 0
    expected_duplicates: int = 0  # ids this shopper had sent before
    webhooks_sent: int = 0
    webhook_statuses: Counter[str] = field(default_factory=Counter)
    expected_webhook_statuses: Counter[str] = field(default_factory=Counter)
    pending_redemptions: int = 0  # 201s whose coupon Smile was still issuing (no code yet)


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, seconds: float, status: int, expected: int) -> None:
        with self.lock:
            self.latencies[route].append(seconds)
            if status != expected:
                self.errors[f"{route} → {status}"] += 1


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def minor(amount: str) -> int:
    return int(Decimal(amount) * 100)


def smile_customers(smile_url: str) -> list[dict[str, Any]]:
    """Every customer of the demo Smile account, through Smile's own API on the stand-in."""
    found: list[dict[str, Any]] = []
    cursor = None
    with httpx.Client(
        base_url=smile_url.rstrip("/") + "/",
        headers={"authorization": f"Bearer {DEMO_SMILE_KEY}"},
        timeout=10,
    ) as client:
        while True:
            params: dict[str, Any] = {"limit": 250}
            if cursor:
                params["cursor"] = cursor
            response = client.get("customers", params=params)
            if response.status_code == 429:
                time.sleep(1.0)
                continue
            response.raise_for_status()
            body = response.json()
            found += body["customers"]
            cursor = (body.get("metadata") or {}).get("next_cursor")
            if not cursor:
                return found


def choose_shoppers(customers: list[dict[str, Any]], count: int) -> list[Shopper]:
    """Distinct customers: mostly members with points, some candidates, excluded, outsiders."""
    by_email = Counter(c["email"].lower() for c in customers)
    unique = [c for c in customers if by_email[c["email"].lower()] == 1]
    rng = random.Random(SEED)
    members = [c for c in unique if c["state"] == "member" and c["points_balance"] >= PRICE]
    candidates = [c for c in unique if c["state"] == "candidate"]
    excluded = [c for c in unique if c["state"] == "disabled"]
    for group in (members, candidates, excluded):
        rng.shuffle(group)
    outsiders = max(1, count // 10)
    share = max(1, count // 20)
    picked = candidates[:share] + excluded[:share]
    picked = members[: count - len(picked) - outsiders] + picked
    shoppers = [
        Shopper(str(7_000_000_000 + n), c["email"], c["state"], int(c["points_balance"]))
        for n, c in enumerate(picked)
    ]
    shoppers += [
        Shopper(str(8_000_000_000 + n), f"load-outsider-{n}@example.com", "not_member", 0)
        for n in range(count - len(shoppers))
    ]
    for n, shopper in enumerate(shoppers):
        shopper.account = "disabled" if n % 10 == 3 else "enabled"  # no account login
    return shoppers


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Load:
    def __init__(self, ready: dict[str, Any], shoppers: list[Shopper]) -> None:
        demo = ready["demo"]
        self.url = ready["url"]
        self.merchant_id = demo["merchant_id"]
        self.base = f"{self.url}/v1/shops/{self.merchant_id}/hub"
        self.webhook_url = f"{self.url}/v1/webhooks/shopify/{self.merchant_id}"
        self.webhook_secret = demo["webhook_secret"]
        self.shop_domain = demo["shop_domain"]
        self.origin = f"https://{demo['shop_domain']}"
        self.shoppers = shoppers
        self.started = time.monotonic()  # when the shoppers started (`run`)
        for shopper in shoppers:
            shopper.token = mint_customer_token(
                demo["merchant_id"],
                demo["customer_token_secret"],
                shopper.sub,
                shopper.email,
                ttl=int(max(SECONDS, BASELINE_SECONDS)) + 600,
            )
        self.tally = Tally()
        self.sent = Sent()
        self.sent_lock = threading.Lock()
        self.order_ids = iter(range(6_100_000_000, 6_200_000_000))
        self.order_lock = threading.Lock()

    def call(
        self, client: httpx.Client, route: str, method: str, url: str, expected: int, **kw: Any
    ) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = client.request(method, url, **kw)
        except httpx.TransportError as exc:  # counted as an error; the shopper goes on
            self.tally.record(route, time.perf_counter() - started, 0, expected)
            return httpx.Response(599, json={"transport_error": type(exc).__name__})
        self.tally.record(route, time.perf_counter() - started, response.status_code, expected)
        return response

    # -------------------------------------------------------------- events
    def send_events(
        self, client: httpx.Client, shopper: Shopper, events: list[dict[str, Any]], seen: set[str]
    ) -> None:
        response = self.call(
            client, "POST /events", "POST", f"{self.base}/events", 202, json={"events": events}
        )
        if response.status_code != 202:
            return
        answer = response.json()
        with self.sent_lock:
            self.sent.events_sent += len(events)
            self.sent.accepted += int(answer["accepted"])
            self.sent.duplicates += int(answer["duplicates"])
            for event in events:
                if event["id"] in seen:
                    self.sent.expected_duplicates += 1
                self.sent.events.setdefault(event["id"], {**event, "customer": shopper.sub})
        seen.update(event["id"] for event in events)

    @staticmethod
    def event(rng: random.Random, kind: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "type": kind,
            "occurred_at": iso_seconds(utc_now()),
            **extra,
        }

    def interactions(self, rng: random.Random) -> list[dict[str, Any]]:
        """What a shopper does in the hub after opening it: 1-4 service interactions and
        product touch-points."""
        events = []
        for _ in range(rng.randrange(1, 5)):
            kind = rng.choice([*SERVICE_INTERACTIONS, *TOUCHPOINTS, *TOUCHPOINTS])
            extra: dict[str, Any] = {}
            if kind in TOUCHPOINTS:
                extra["product_id"] = str(rng.choice(PRODUCTS[:6])[0])
            if kind in ("order_tracked", "return_started") and rng.random() < 0.5:
                extra["order_id"] = str(rng.randrange(5_000_000_000, 5_100_000_000))
            events.append(self.event(rng, kind, **extra))
        return events

    def apply_issued(self, client: httpx.Client, shopper: Shopper, coupons: Any) -> None:
        """As the drawer does: a redeemed coupon Smile was still issuing is applied to the
        cart once the hub lists it with its code."""
        listed = {
            str(c["id"]): c for c in [*coupons.get("applied", []), *coupons.get("available", [])]
        }
        for coupon_id in [c for c in shopper.pending if listed.get(c, {}).get("code")]:
            route, url = "POST /coupons/{id}/apply", f"{self.base}/coupons/{coupon_id}/apply"
            response = self.call(client, route, "POST", url, 200)
            if response.status_code != 200:
                continue
            shopper.pending.remove(coupon_id)
            code = response.json()["coupon"]["code"]
            shopper.codes.append(code)
            with self.sent_lock:
                self.sent.events[f"redeem:apply:{coupon_id}"] = {
                    "type": "coupon_applied",
                    "occurred_at": iso_seconds(utc_now()),
                    "coupon_code": code,
                    "customer": shopper.sub,
                }

    # -------------------------------------------------------------- webhooks
    def send_webhook(
        self, client: httpx.Client, topic: str, body: dict[str, Any], webhook_id: str, first: bool
    ) -> None:
        raw = json.dumps(body).encode()
        headers = {
            "content-type": "application/json",
            "x-shopify-topic": topic,
            "x-shopify-hmac-sha256": sign(raw, self.webhook_secret),
            "x-shopify-webhook-id": webhook_id,
            "x-shopify-shop-domain": self.shop_domain,
        }
        route = f"POST /webhooks/shopify ({topic})"
        response = self.call(
            client, route, "POST", self.webhook_url, 200, content=raw, headers=headers
        )
        if response.status_code != 200:
            return
        with self.sent_lock:
            self.sent.webhooks_sent += 1
            self.sent.webhook_statuses[str(response.json().get("status"))] += 1
            self.sent.expected_webhook_statuses["accepted" if first else "duplicate"] += 1
            target = self.sent.orders if topic == "orders/create" else self.sent.accounts
            target.setdefault(webhook_id, body)

    def order(
        self, client: httpx.Client, rng: random.Random, shopper: Shopper, touched: list[str]
    ) -> None:
        """A Shopify order of touched and untouched products, sometimes with a redeemed code."""
        with self.order_lock:
            order_id = next(self.order_ids)
        picks = {p[0]: p for p in rng.sample(PRODUCTS, rng.randrange(1, 3))}
        for product in touched[:2]:
            found = next(p for p in PRODUCTS if str(p[0]) == product)
            picks[found[0]] = found
        lines = [
            Line(pid, title, rng.randrange(1, 3), price, rng.choice([0, 0, 100, 250]))
            for pid, title, price in picks.values()
        ]
        codes = [shopper.codes.pop(0)] if shopper.codes and rng.random() < 0.6 else []
        guest = rng.random() < 0.05
        customer = (
            None if guest else order_customer(int(shopper.sub), shopper.email, shopper.account)
        )
        # A second after now, so every interaction sent before is strictly before the order.
        at = utc_now().replace(microsecond=0) + timedelta(seconds=1)
        body = shopify_order(
            order_id, at, lines, customer=customer, codes=codes, shipping=rng.choice([0, 0, 499])
        )
        webhook_id = f"load-order-{order_id}"
        self.send_webhook(client, "orders/create", body, webhook_id, True)
        if rng.random() < RESEND_SHARE:
            self.send_webhook(client, "orders/create", body, webhook_id, False)

    # -------------------------------------------------------------- shoppers
    def shopper_loop(self, shopper: Shopper, deadline: float, seed: int) -> None:
        rng = random.Random(seed)
        headers = {"authorization": f"Bearer {shopper.token}", "origin": self.origin}
        member = shopper.state == "member"
        seen: set[str] = set()
        with httpx.Client(headers=headers, timeout=30) as client:
            account = shopify_customer(int(shopper.sub), shopper.email, utc_now(), shopper.account)
            self.send_webhook(client, "customers/create", account, f"load-c-{shopper.sub}", True)
            while time.monotonic() < deadline:
                opened = [self.event(rng, "hub_opened")]
                if rng.random() < 0.3:
                    opened.append(self.event(rng, "hub_logged_in"))
                self.send_events(client, shopper, opened, seen)
                for route in ("loyalty", "rewards", "coupons"):
                    read = self.call(client, f"GET /{route}", "GET", f"{self.base}/{route}", 200)
                if shopper.pending and read.status_code == 200:
                    self.apply_issued(client, shopper, read.json())
                done = self.interactions(rng)
                self.send_events(client, shopper, done, seen)
                if rng.random() < RESEND_SHARE:
                    self.send_events(client, shopper, done, seen)  # a retry: the same ids
                affordable = shopper.balance - PRICE * (shopper.redeemed + 1) >= 0
                if (
                    member
                    and affordable
                    and shopper.redeemed < MAX_REDEMPTIONS
                    and rng.random() < REDEEM_SHARE
                ):
                    self.redeem(client, shopper)
                if rng.random() < ORDER_SHARE:
                    touched = [str(e["product_id"]) for e in done if e.get("product_id")]
                    self.order(client, rng, shopper, touched)
                time.sleep(rng.uniform(*THINK))

    def redeem(self, client: httpx.Client, shopper: Shopper) -> None:
        key = str(uuid.uuid4())
        for _ in range(5):
            response = self.call(
                client,
                "POST /rewards/{id}/redeem",
                "POST",
                f"{self.base}/rewards/{PRODUCT}/redeem",
                201,
                json={},
                headers={"idempotency-key": key},
            )
            if response.status_code == 201:
                shopper.redeemed += 1
                shopper.keys.append(key)
                coupon = response.json()["coupon"]
                code = coupon.get("code")
                if not code:
                    # Smile is still issuing it: the drawer applies it once it has its code
                    # (`apply_issued`), and the hub records the `coupon_applied` then.
                    shopper.pending.append(str(coupon["id"]))
                    with self.sent_lock:
                        self.sent.pending_redemptions += 1
                    return
                shopper.codes.append(code)
                # The hub records this redemption as a `coupon_applied` interaction itself.
                with self.sent_lock:
                    self.sent.events[f"redeem:{key}"] = {
                        "type": "coupon_applied",
                        "occurred_at": iso_seconds(utc_now()),
                        "coupon_code": code,
                        "customer": shopper.sub,
                    }
                return
            if response.status_code not in (502, 503, 409):
                return
            time.sleep(float(response.headers.get("retry-after", "1")))

    def run(self, seconds: float) -> float:
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=self.shopper_loop, args=(s, deadline, SEED + n))
            for n, s in enumerate(self.shoppers)
        ]
        self.started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - self.started


# ------------------------------------------------------------------ what the dashboard must show
@dataclass
class Figures:
    service: Counter[str] = field(default_factory=Counter)
    active: int = 0
    accounts: int = 0
    revenue: int = 0
    aov_orders: int = 0
    aov_revenue: int = 0
    lines: list[tuple[str, str, int, frozenset[str]]] = field(default_factory=list)


def expected_figures(sent: Sent) -> Figures:
    """The load's figures from what it sent, with plain loops (SPEC §5, §6)."""
    figures = Figures()
    events = list(sent.events.values())
    for event in events:
        if event["type"] in SERVICE_INTERACTIONS:
            figures.service[event["type"]] += 1
    figures.active = len({e["customer"] for e in events if e["type"] == "hub_opened"})
    figures.accounts = len({str(body["id"]) for body in sent.accounts.values()})
    for body in {str(b["id"]): b for b in sent.orders.values()}.values():
        ordered = parse_time(body["created_at"])
        customer = body.get("customer")
        if customer and customer.get("state") == "enabled":
            figures.aov_orders += 1
            figures.aov_revenue += minor(body["total_price_set"]["shop_money"]["amount"])
        if not customer:
            continue
        mine = [
            e
            for e in events
            if e["customer"] == str(customer["id"])
            and ordered - timedelta(hours=24) <= parse_time(e["occurred_at"]) < ordered
        ]
        codes = {c["code"].lower() for c in body["discount_codes"]}
        coupon = any(
            e["type"] == "coupon_applied" and (e.get("coupon_code") or "").lower() in codes
            for e in mine
        )
        for line in body["line_items"]:
            touches = [
                e
                for e in mine
                if e["type"] in TOUCHPOINTS and e.get("product_id") == str(line["product_id"])
            ]
            if not touches and not coupon:
                continue
            amount = minor(line["price_set"]["shop_money"]["amount"]) * line["quantity"] - sum(
                minor(a["amount_set"]["shop_money"]["amount"]) for a in line["discount_allocations"]
            )
            latest = max((e["occurred_at"] for e in touches), default=None)
            # Touch-points of the same second tie: any of their types is the right one.
            kinds = frozenset(e["type"] for e in touches if e["occurred_at"] == latest)
            figures.revenue += amount
            figures.lines.append(
                (str(body["id"]), str(line["product_id"]), amount, kinds or frozenset({"coupon"}))
            )
    return figures


class Dashboard:
    """The dashboard routes with the merchant API key."""

    def __init__(self, url: str, api_key: str) -> None:
        self.client = httpx.Client(
            base_url=url, headers={"authorization": f"Bearer {api_key}"}, timeout=60
        )

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.client.get(f"/v1/dashboard/{path}", params={**PERIOD, **params})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def read(self) -> dict[str, Any]:
        overview = self.get("overview")
        service = self.get("service-interactions")
        aov = self.get("average-order-value")
        lines: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.get("revenue-report", **({"cursor": cursor} if cursor else {}))
            lines += page["lines"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        return {
            "service": Counter({k: int(v) for k, v in service["totals"].items()}),
            "overview_service": int(overview["service_interactions"]["value"]),
            "active": int(overview["active_accounts"]["value"]),
            "accounts": int(overview["total_accounts"]["value"]),
            "revenue": minor(overview["revenue_generated"]["value"]["amount"]),
            "report_total": minor(page["total"]["amount"]),
            "aov_orders": int(aov["orders"]),
            "aov_revenue": minor(aov["revenue"]["amount"]),
            "aov_series_orders": sum(int(p["orders"]) for p in aov["series"]),
            "lines": lines,
        }


def dashboard_checks(
    before: dict[str, Any], after: dict[str, Any], want: Figures
) -> list[list[Any]]:
    """Rows of (figure, sent by the load, the dashboard's change, equal?)."""

    def row(name: str, expected: int, key: str) -> list[Any]:
        got = after[key] - before[key]
        return [name, expected, got, "yes" if got == expected else "**no**"]

    service_total = sum(want.service.values())
    money = lambda v: f"{Decimal(v) / 100:.2f}"  # noqa: E731
    rows = [
        row("service interactions (overview)", service_total, "overview_service"),
        row("active accounts (overview)", want.active, "active"),
        row("total accounts (overview)", want.accounts, "accounts"),
        row("logged-in orders (average-order-value)", want.aov_orders, "aov_orders"),
        row("logged-in orders (its series)", want.aov_orders, "aov_series_orders"),
    ]
    for kind in SERVICE_INTERACTIONS:
        got = after["service"][kind] - before["service"][kind]
        rows.append(
            [
                f"{kind} (service-interactions)",
                want.service[kind],
                got,
                "yes" if got == want.service[kind] else "**no**",
            ]
        )
    for name, expected, key in (
        ("revenue generated, USD (overview)", want.revenue, "revenue"),
        ("revenue report total, USD", want.revenue, "report_total"),
        ("logged-in order revenue, USD (average-order-value)", want.aov_revenue, "aov_revenue"),
    ):
        got = after[key] - before[key]
        rows.append([name, money(expected), money(got), "yes" if got == expected else "**no**"])
    old = {(line["order_id"], line["product_id"]) for line in before["lines"]}
    new = [line for line in after["lines"] if (line["order_id"], line["product_id"]) not in old]
    got_lines = Counter(
        (str(line["order_id"]), str(line["product_id"]), minor(line["amount"]["amount"]))
        for line in new
    )
    want_lines = Counter((o, p, a) for o, p, a, _ in want.lines)
    kinds = {(o, p): k for o, p, _, k in want.lines}
    wrong_touch = sum(
        1
        for line in new
        if line["touchpoint"]
        not in kinds.get((str(line["order_id"]), str(line["product_id"])), frozenset())
    )
    rows.append(
        [
            "attributed order lines (revenue report)",
            len(want.lines),
            len(new),
            "yes" if got_lines == want_lines else "**no**",
        ]
    )
    coupon_lines = sum(1 for _, _, _, k in want.lines if k == frozenset({"coupon"}))
    got_coupon = sum(1 for line in new if line["touchpoint"] == "coupon")
    rows.append(
        [
            "lines attributed by a redeemed coupon (revenue report)",
            coupon_lines,
            got_coupon,
            "yes" if got_coupon == coupon_lines else "**no**",
        ]
    )
    rows.append(
        [
            "report lines with another touch-point",
            0,
            wrong_touch,
            "yes" if wrong_touch == 0 else "**no**",
        ]
    )
    return rows


def smile_log(ready: dict[str, Any]) -> list[dict[str, Any]]:
    """The stand-in's request log (arrival times are this host's monotonic clock)."""
    control = ready["smile_url"].rstrip("/").removesuffix("/v1")
    return list(httpx.get(f"{control}/_control/requests", timeout=30).json()["requests"])


def smile_kind(request: dict[str, Any]) -> str:
    """A request's route at Smile, ids replaced by `{id}`."""
    parts = ["{id}" if p.isdigit() else p for p in request["path"].split("/")]
    query = "?email" if "email" in request.get("query", {}) else ""
    return f"{request['method']} {'/'.join(parts)}{query}"


def smile_demand(log: list[dict[str, Any]], started: float, seconds: float) -> str:
    """What the load asked of Smile: requests by route, per second, the busiest 1-s window
    and 429s (the demo key's budget is 10 requests per second)."""
    during = sorted(
        (r for r in log if r["account"] == "demo" and started <= r["at"] <= started + seconds),
        key=lambda r: r["at"],
    )
    times = [r["at"] for r in during]
    peak, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= 1.0:
            first += 1
        peak = max(peak, last - first + 1)
    kinds = Counter(smile_kind(r) for r in during)
    rows: list[list[object]] = [
        [kind, count, f"{count / seconds:.2f}"] for kind, count in kinds.most_common()
    ]
    rows.append(["all", len(during), f"{len(during) / seconds:.2f}"])
    statuses = Counter(r["status"] for r in during)
    return (
        table(["Smile request", "count", "per second"], rows)
        + f"\n\nBusiest 1-s window at the stand-in: {peak} requests (limit 10); "
        + "statuses: "
        + ", ".join(f"{status} × {n}" for status, n in sorted(statuses.items()))
    )


def verify_smile(
    ready: dict[str, Any], load: Load, log: list[dict[str, Any]]
) -> list[list[object]]:
    """Every redemption reflected exactly at the stand-in and in the hub's loyalty read."""
    smile_url = ready["smile_url"]
    purchases = [
        r
        for r in log
        if r["account"] == "demo"
        and r["method"] == "POST"
        and r["status"] == 201
        and r["path"].startswith("/points_products/")
    ]
    keys = [k for s in load.shoppers for k in s.keys]
    after = {c["email"].lower(): int(c["points_balance"]) for c in smile_customers(smile_url)}
    wrong_smile = [
        s.email
        for s in load.shoppers
        if s.state != "not_member" and after[s.email.lower()] != s.balance - PRICE * s.redeemed
    ]
    wrong_hub = []
    with httpx.Client(timeout=30) as client:
        for shopper in load.shoppers:
            if shopper.state != "member":
                continue
            reply = client.get(
                f"{load.base}/loyalty", headers={"authorization": f"Bearer {shopper.token}"}
            )
            if reply.json().get("points_balance") != after[shopper.email.lower()]:
                wrong_hub.append(shopper.email)
    return [
        ["successful redemptions (distinct keys)", len(set(keys))],
        ["purchases at the Smile stand-in", len(purchases)],
        ["shoppers whose Smile balance is off", len(wrong_smile)],
        ["members whose hub balance differs from Smile", len(wrong_hub)],
    ]


def drain(url: str) -> int:
    return int(httpx.post(f"{url}/_local/drain", timeout=900).json()["processed"])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far; NaN without /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def latency_rows(tally: Tally) -> list[list[object]]:
    def cells(name: str, times: list[float]) -> list[object]:
        return [name, len(times)] + [
            f"{percentile(times, share) * 1000:.0f}" for share in (0.50, 0.95, 0.99)
        ]

    rows = [cells(route, times) for route, times in sorted(tally.latencies.items())]
    rows.append(cells("all", [t for times in tally.latencies.values() for t in times]))
    return rows


@dataclass
class Run:
    """One load against one `hub dev` and everything checked afterwards."""

    shortcuts: bool
    load: Load
    shoppers: list[Shopper]
    seconds: float
    server_cpu: float
    client_cpu: float
    catch_up: float
    smile_checks: list[list[object]]
    dashboard_rows: list[list[Any]]
    smile_demand: str

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.load.tally.latencies.values())

    @property
    def errors(self) -> int:
        return sum(self.load.tally.errors.values())

    @property
    def distinct_events(self) -> int:
        return len([k for k in self.load.sent.events if not k.startswith("redeem:")])

    @property
    def mismatches(self) -> list[str]:
        """What is not exactly as sent (empty: every figure exact)."""
        sent, smile = self.load.sent, self.smile_checks
        checks = {
            "errors": self.errors == 0,
            "events accepted": sent.accepted == self.distinct_events,
            "duplicates": sent.duplicates
            == sent.expected_duplicates
            == sent.events_sent - self.distinct_events,
            "webhook answers": sent.webhook_statuses == sent.expected_webhook_statuses,
            "purchases at Smile": smile[0][1] == smile[1][1],
            "balances": smile[2][1] == 0 == smile[3][1],
        }
        wrong = [name for name, ok in checks.items() if not ok]
        if not checks["webhook answers"]:
            wrong.append(
                f"answered {dict(sent.webhook_statuses)}, expected "
                f"{dict(sent.expected_webhook_statuses)}"
            )
        return wrong + [str(row[0]) for row in self.dashboard_rows if row[3] != "yes"]

    @property
    def exact(self) -> bool:
        return not self.mismatches

    def latency(self, share: float, route: str | None = None) -> float:
        times = self.load.tally.latencies
        values = times.get(route, []) if route else [t for v in times.values() for t in v]
        return percentile(values, share) * 1000


def run_load(seconds: float, *, shortcuts: bool) -> Run:
    env = {
        "SNAPSHOT_MAX_AGE_SECONDS": "3600",  # the load measures the hub, not Smile reads
        "HUBDEV_MOTO_SHORTCUTS": "1" if shortcuts else "0",
    }
    with hub_dev(env=env) as ready:
        shoppers = choose_shoppers(smile_customers(ready["smile_url"]), SHOPPERS)
        dashboard = Dashboard(ready["url"], ready["demo"]["api_key"])
        drain(ready["url"])
        before = dashboard.read()
        load = Load(ready, shoppers)
        server, client = cpu_seconds(ready["pid"]), time.process_time()
        took = load.run(seconds)
        server, client = cpu_seconds(ready["pid"]) - server, time.process_time() - client
        drained_at = time.monotonic()
        drain(ready["url"])
        catch_up = time.monotonic() - drained_at
        after = dashboard.read()
        log = smile_log(ready)
        smile_checks = verify_smile(ready, load, log)
        demand = smile_demand(log, load.started, took)
    rows = dashboard_checks(before, after, expected_figures(load.sent))
    return Run(
        shortcuts, load, shoppers, took, server, client, catch_up, smile_checks, rows, demand
    )


def errors_text(run: Run) -> str:
    """The error count, and which routes answered what when there were any."""
    detail = ", ".join(f"{k} × {v}" for k, v in run.load.tally.errors.items())
    return f"{run.errors} ({detail})" if run.errors else "0"


def comparison(main: Run, base: Run) -> str:
    def ratio(new: float, old: float, better: str = "faster", worse: str = "slower") -> str:
        if not new or not old:
            return "—"
        return f"{old / new:.1f}× {better}" if new <= old else f"{new / old:.1f}× {worse}"

    rows: list[list[object]] = [
        ["load duration", f"{main.seconds:.0f} s", f"{base.seconds:.0f} s", ""],
        [
            "requests per second",
            f"{main.requests / main.seconds:.1f}",
            f"{base.requests / base.seconds:.1f}",
            f"{(main.requests / main.seconds) / (base.requests / base.seconds):.1f}× more",
        ],
        [
            "`hub dev` CPU per request",
            f"{main.server_cpu / main.requests * 1000:.1f} ms",
            f"{base.server_cpu / base.requests * 1000:.1f} ms",
            ratio(main.server_cpu / main.requests, base.server_cpu / base.requests, "less", "more"),
        ],
    ]
    for label, share, route in (
        ("p50, all routes", 0.50, None),
        ("p95, all routes", 0.95, None),
        ("p50 GET /loyalty", 0.50, "GET /loyalty"),
        ("p50 POST /events", 0.50, "POST /events"),
        ("p50 POST /rewards/{id}/redeem", 0.50, "POST /rewards/{id}/redeem"),
    ):
        new, old = main.latency(share, route), base.latency(share, route)
        rows.append([label, f"{new:.0f} ms", f"{old:.0f} ms", ratio(new, old)])
    rows += [
        [
            "stream catch-up after the load (`/_local/drain`)",
            f"{main.catch_up:.1f} s",
            f"{base.catch_up:.1f} s",
            "(after loads of different lengths)",
        ],
        ["errors", errors_text(main), errors_text(base), ""],
        [
            "every figure exact (events, dashboard, Smile)",
            "yes" if main.exact else f"**no** ({', '.join(main.mismatches)})",
            "yes" if base.exact else f"**no** ({', '.join(base.mismatches)})",
            "",
        ],
    ]
    return table(["figure", "this stack", "moto as it comes (baseline)", "ratio"], rows)


def main() -> int:
    main_run = run_load(SECONDS, shortcuts=True)
    base = run_load(BASELINE_SECONDS, shortcuts=False) if BASELINE_SECONDS > 0 else None
    sent, tally = main_run.load.sent, main_run.load.tally
    shoppers = main_run.shoppers
    states = Counter(s.state for s in shoppers)
    summary: list[list[object]] = [
        ["shoppers (distinct customers)", f"{len(shoppers)} ({dict(sorted(states.items()))})"],
        ["duration", f"{main_run.seconds:.1f} s"],
        ["requests", main_run.requests],
        ["requests per second", f"{main_run.requests / main_run.seconds:.1f}"],
        ["errors (target 0)", main_run.errors],
        [
            "CPU per request: `hub dev` / the shoppers' client",
            f"{main_run.server_cpu / main_run.requests * 1000:.1f} ms / "
            f"{main_run.client_cpu / main_run.requests * 1000:.1f} ms",
        ],
        ["events sent (resent batches included)", sent.events_sent],
        ["distinct event ids sent", main_run.distinct_events],
        ["events accepted (API answers)", sent.accepted],
        [
            "duplicates (API answers; expected: resent ids)",
            f"{sent.duplicates} ({sent.expected_duplicates})",
        ],
        ["webhooks sent (orders, accounts; redeliveries included)", sent.webhooks_sent],
        [
            "webhook answers accepted / duplicate (expected)",
            f"{sent.webhook_statuses['accepted']} / {sent.webhook_statuses['duplicate']} "
            f"({sent.expected_webhook_statuses['accepted']} / "
            f"{sent.expected_webhook_statuses['duplicate']})",
        ],
        ["stream catch-up after the load (`/_local/drain`)", f"{main_run.catch_up:.1f} s"],
        *main_run.smile_checks,
        [
            "redemptions answered while Smile was issuing (applied by the drawer later)",
            sent.pending_redemptions,
        ],
    ]
    errors = main_run.errors
    body = (
        f"{len(shoppers)} concurrent shoppers for {SECONDS:.0f} s against `hub dev` (subprocess, "
        "moto, Smile stand-in) on 127.0.0.1; client and server share the machine's cores. "
        "Each shopper opens the hub (`POST /events` hub_opened, `GET /loyalty`, `/rewards`, "
        "`/coupons`), reports 1-4 interactions (a tenth of the batches sent twice), members "
        "redeem, and shoppers order through signed `orders/create` webhooks (a tenth "
        "redelivered).\n\n"
        + table(["figure", "value"], summary)
        + "\n\n"
        + table(["route", "requests", "p50 ms", "p95 ms", "p99 ms"], latency_rows(tally))
        + (
            "\n\nErrors: " + ", ".join(f"{k} × {v}" for k, v in tally.errors.items())
            if errors
            else ""
        )
        + "\n\nWhat the load asked of Smile (the stand-in's log, the demo key, during the "
        "load):\n\n"
        + main_run.smile_demand
        + "\n\nAfter the load and `/_local/drain`: the dashboard's change over the load "
        f"(`{PERIOD['period']}`, read before and after with the merchant API key) against the "
        "figures counted client-side from distinct event ids and webhook ids.\n\n"
        + table(
            ["figure", "sent by the load", "dashboard change", "equal"], main_run.dashboard_rows
        )
    )
    if base is not None:
        body += (
            f"\n\nBaseline in the same run: the same {len(shoppers)} shoppers for "
            f"{BASELINE_SECONDS:.0f} s against `hub dev` with `HUBDEV_MOTO_SHORTCUTS=0` (moto "
            "as it comes: every Query sorts its whole table, every transaction deep-copies its "
            "tables, attribute values go through the generic serializer, one lock for all of "
            "DynamoDB). The machine is shared, so CPU per request is the steadiest figure.\n\n"
            + comparison(main_run, base)
        )
    title = f"Load on the local stack ({len(shoppers)} shoppers, `hub dev`)"
    path = write_result("load", title, body + "\n")
    print(path.read_text())
    return 0 if main_run.exact and (base is None or base.exact) else 1


if __name__ == "__main__":
    sys.exit(main())
