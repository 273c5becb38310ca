"""Load on the local stack: concurrent simulated shoppers against `hub dev` (127.0.0.1 only).

`hub dev` runs as a subprocess with its demo data (the demo merchant connected to the Smile
stand-in's 300 demo customers and synced). Each shopper is a distinct customer in one of the
loyalty states (members with points, candidates, excluded, shoppers outside the program); in a
bounded loop it opens the hub (`GET /loyalty`, `/rewards`, `/coupons`) and members sometimes
redeem "Free shipping" (100 points, a fresh `Idempotency-Key`, retried with the same key on a
retryable problem as the storefront does). The loop stops by itself after the duration.

Reported: requests per second, p50/p95/p99 per route, errors (target 0); afterwards every
redemption must be reflected exactly at the stand-in (one purchase per successful key, each
shopper's Smile balance = before - points redeemed) and in the hub's loyalty read.

    LOAD_SECONDS=60 LOAD_SHOPPERS=50 .venv/bin/python -m bench.bench_load
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.common import percentile, table, write_result
from customer_hub.identity import mint_customer_token
from hubdev.smile_dev import DEMO_SMILE_KEY
from tests.support.devserver import hub_dev

SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
SHOPPERS = int(os.environ.get("LOAD_SHOPPERS", "50"))
PRODUCT, PRICE = 11, 100  # "Free shipping"
REDEEM_SHARE = 0.15  # of a member's hub visits
MAX_REDEMPTIONS = 3  # per shopper
THINK = (0.05, 0.3)  # seconds between two visits of one shopper
SEED = 20261123


@dataclass
class Shopper:
    sub: str
    email: str
    state: str  # the Smile state, or "not_member"
    balance: int  # Smile points before the run
    token: str = ""
    redeemed: int = 0
    keys: list[str] = field(default_factory=list)


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
    return shoppers


class Load:
    def __init__(self, ready: dict[str, Any], shoppers: list[Shopper]) -> None:
        demo = ready["demo"]
        self.base = f"{ready['url']}/v1/shops/{demo['merchant_id']}/hub"
        self.origin = f"https://{demo['shop_domain']}"
        self.shoppers = shoppers
        for shopper in shoppers:
            shopper.token = mint_customer_token(
                demo["merchant_id"], demo["customer_token_secret"], shopper.sub, shopper.email,
                ttl=int(SECONDS) + 600,
            )  # fmt: skip
        self.tally = Tally()
        self.requests = 0

    def call(
        self, client: httpx.Client, route: str, method: str, path: str, expected: int, **kw: Any
    ) -> httpx.Response:
        started = time.perf_counter()
        response = client.request(method, f"{self.base}/{path}", **kw)
        self.tally.record(route, time.perf_counter() - started, response.status_code, expected)
        return response

    def shopper_loop(self, shopper: Shopper, deadline: float, seed: int) -> None:
        rng = random.Random(seed)
        headers = {"authorization": f"Bearer {shopper.token}", "origin": self.origin}
        member = shopper.state == "member"
        with httpx.Client(headers=headers, timeout=30) as client:
            while time.monotonic() < deadline:
                self.call(client, "GET /loyalty", "GET", "loyalty", 200)
                for route in ("rewards", "coupons"):
                    self.call(client, f"GET /{route}", "GET", route, 200)
                affordable = shopper.balance - PRICE * (shopper.redeemed + 1) >= 0
                if (
                    member
                    and affordable
                    and shopper.redeemed < MAX_REDEMPTIONS
                    and rng.random() < REDEEM_SHARE
                ):
                    self.redeem(client, shopper)
                time.sleep(rng.uniform(*THINK))

    def redeem(self, client: httpx.Client, shopper: Shopper) -> None:
        key = str(uuid.uuid4())
        for _ in range(5):
            response = self.call(
                client, "POST /rewards/{id}/redeem", "POST", f"rewards/{PRODUCT}/redeem", 201,
                json={}, headers={"idempotency-key": key},
            )  # fmt: skip
            if response.status_code == 201:
                shopper.redeemed += 1
                shopper.keys.append(key)
                return
            if response.status_code not in (502, 503, 409):
                return
            time.sleep(float(response.headers.get("retry-after", "1")))

    def run(self) -> float:
        deadline = time.monotonic() + SECONDS
        threads = [
            threading.Thread(target=self.shopper_loop, args=(s, deadline, SEED + n))
            for n, s in enumerate(self.shoppers)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - started


def verify(ready: dict[str, Any], load: Load) -> list[list[object]]:
    """Every redemption reflected exactly at the stand-in and in the hub's loyalty read."""
    smile_url = ready["smile_url"]
    control = smile_url.rstrip("/").removesuffix("/v1")
    log = httpx.get(f"{control}/_control/requests", timeout=30).json()["requests"]
    purchases = [
        r for r in log
        if r["account"] == "demo" and r["method"] == "POST" and r["status"] == 201
        and r["path"].startswith("/points_products/")
    ]  # fmt: skip
    keys = [k for s in load.shoppers for k in s.keys]
    after = {c["email"].lower(): int(c["points_balance"]) for c in smile_customers(smile_url)}
    wrong_smile = [
        s.email for s in load.shoppers
        if s.state != "not_member" and after[s.email.lower()] != s.balance - PRICE * s.redeemed
    ]  # fmt: skip
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


def main() -> int:
    env = {"SNAPSHOT_MAX_AGE_SECONDS": "3600"}  # the load measures the hub, not Smile reads
    with hub_dev(env=env) as ready:
        shoppers = choose_shoppers(smile_customers(ready["smile_url"]), SHOPPERS)
        load = Load(ready, shoppers)
        seconds = load.run()
        checks = verify(ready, load)
    tally = load.tally
    total = sum(len(v) for v in tally.latencies.values())
    errors = sum(tally.errors.values())
    rows: list[list[object]] = [
        [
            route,
            len(times),
            f"{percentile(times, 0.50) * 1000:.0f}",
            f"{percentile(times, 0.95) * 1000:.0f}",
            f"{percentile(times, 0.99) * 1000:.0f}",
        ]
        for route, times in sorted(tally.latencies.items())
    ]
    everything = [t for times in tally.latencies.values() for t in times]
    rows.append(
        [
            "all",
            total,
            f"{percentile(everything, 0.50) * 1000:.0f}",
            f"{percentile(everything, 0.95) * 1000:.0f}",
            f"{percentile(everything, 0.99) * 1000:.0f}",
        ]
    )
    states = Counter(s.state for s in shoppers)
    summary = [
        ["shoppers (distinct customers)", f"{len(shoppers)} ({dict(sorted(states.items()))})"],
        ["duration", f"{seconds:.1f} s"],
        ["requests per second", f"{total / seconds:.1f}"],
        ["errors (target 0)", errors],
        *checks,
    ]
    exact = checks[0][1] == checks[1][1] and checks[2][1] == 0 == checks[3][1]
    body = (
        f"{len(shoppers)} concurrent shoppers for {SECONDS:.0f} s against `hub dev` (subprocess, "
        "moto, Smile stand-in) on 127.0.0.1; client and server share the machine's cores.\n\n"
        + table(["figure", "value"], summary)
        + "\n\n"
        + table(["route", "requests", "p50 ms", "p95 ms", "p99 ms"], rows)
        + (
            "\n\nErrors: " + ", ".join(f"{k} × {v}" for k, v in tally.errors.items())
            if errors
            else ""
        )
        + "\n\n`POST /events` is not part of the load yet (the events route is not on main), so "
        "the dashboard figures are not checked.\n"
    )
    title = f"Load on the local stack ({len(shoppers)} shoppers, `hub dev`)"
    path = write_result("load", title, body)
    print(path.read_text())
    return 0 if exact and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
