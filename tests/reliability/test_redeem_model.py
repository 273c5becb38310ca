"""Model-based test of redemption (issue 13): a Hypothesis state machine drives the real redeem
handler against the Smile stand-in (no idempotency key, no undo) while a model ledger says what
must be true.

Steps: redemptions of random rewards (fixed and variable) under a random Smile fault — refused
(503, 429), down (never reached), the answer lost after Smile bought (500/502/504, reset),
a 5xx before Smile acted (the answer is lost, nothing bought), slow, the coupon issued later
(pending) — concurrent clicks, same-key retries, page reloads (a new key), an unrelated reward
issued meanwhile, a sync, and time passing beyond the hub's "not found is conclusive" delay.

Invariants after every step: Smile's purchases are the successful redemptions plus at most the
unconfirmed ones (and exactly the successful ones once everything is settled); no coupon is
answered twice or lost; no fulfillment the customer received another way is ever answered; every
201 balance is exact; the balance the storefront shows is Smile's minus the points still held;
once settled, it equals Smile's.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from customer_hub.infra import clock
from customer_hub.infra.config import config
from customer_hub.loyalty.snapshots import HOLD_OUTCOME_FINAL_SECONDS
from customer_hub.merchants.profiles import SettingsPatch, update_settings
from customer_hub.redemption import reconciliation
from hubdev.smile_standin import Clock, SmileStandIn, _iso
from hubdev.stack import LocalStack
from tests.conftest import make_merchant
from tests.support.api import InProcessApi
from tests.support.storefront import Shop, Shopper, connect_shop

EXAMPLES = int(os.environ.get("REDEEM_MODEL_EXAMPLES") or 200)
STEPS = 5
GIFT = "Birthday gift"
# product id → (points for {} or for each allowed points_to_spend, fulfillment name)
FIXED = {11: (100, "Free shipping"), 12: (250, "$5 off")}
VARIABLE = {100: "$1 off coupon", 200: "$2 off coupon", 300: "$3 off coupon"}
FAULTS = [
    "none",
    "refused-503",
    "refused-429",
    "down",
    "lost-500",
    "lost-502",
    "lost-504",
    "lost-reset",
    "not-acted-500",
    "not-acted-502",
    "slow",
    "pending",
]


class Offset:
    """The time both the hub and the stand-in see: real time plus `seconds`."""

    seconds = 0.0

    @classmethod
    def now(cls) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=cls.seconds)


class OffsetClock(Clock):
    def tick(self) -> str:
        with self._lock:
            now = Offset.now()
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            self._last = max(now, self._last + timedelta(milliseconds=1))
            return _iso(self._last)


@pytest.fixture(scope="module")
def model_standin() -> Iterator[SmileStandIn]:
    with SmileStandIn(issue_after=0.05, rate_limit=1000) as standin:
        standin.clock = OffsetClock()
        yield standin


def _request(product: int, spend: int | None) -> tuple[int, dict[str, Any], int, str]:
    if product in FIXED:
        points, name = FIXED[product]
        return product, {}, points, name
    assert spend is not None
    return 16, {"points_to_spend": spend}, spend, VARIABLE[spend]


def test_redemption_model(
    stack: LocalStack,
    api: InProcessApi,
    model_standin: SmileStandIn,
    monkeypatch: pytest.MonkeyPatch,
    figures: Counter[str],
) -> None:
    monkeypatch.setenv("SMILE_API_BASE_URL", model_standin.url)
    config.cache_clear()
    monkeypatch.setattr(clock, "now", Offset.now)
    # Shorter waits than in production keep 200 examples within a few minutes; what is waited
    # for is the same.
    monkeypatch.setattr(reconciliation, "POLL_DELAYS", (0.05, 0.1))
    monkeypatch.setattr(reconciliation, "RECONCILE_POLLS", (0.0, 0.05))
    standin = model_standin
    # One shop for the run (a fresh Smile customer and shopper per example): accounts get the
    # stand-in's clock when they are made.
    shop_key = f"sk_model_{uuid.uuid4().hex}"
    standin.add_account(shop_key)
    shop = connect_shop(make_merchant(), standin, shop_key)
    update_settings(shop.merchant_id, SettingsPatch(hub_status="live"))

    class Redemptions(RuleBasedStateMachine):
        @initialize(balance=st.integers(0, 12).map(lambda n: n * 50))
        def open_shop(self, balance: int) -> None:
            self.shop: Shop = shop
            # Hypothesis seeds `random`: a shopper of its own per example comes from uuid4.
            sub = str(10**12 + uuid.uuid4().int % 10**12)
            email = f"model-{sub}@example.com"
            customer = shop.account.add_customer(email, points_balance=balance)
            self.shopper = Shopper(sub, email, shop.token(sub, email), int(customer["id"]))
            shop.snapshot_customer(int(customer["id"]))
            self.account = self.shop.account
            self.done: dict[str, dict[str, Any]] = {}  # key → its 201 body
            self.requests: dict[str, tuple[int, dict[str, Any], int, str]] = {}
            self.unconfirmed: dict[str, datetime] = {}  # key → when its attempt began
            self.gifts: set[int] = set()
            self.last_sync = Offset.now() - timedelta(days=1)
            figures["redemption model: examples"] += 1

        # ---------------------------------------------------------------- helpers
        def smile_balance(self) -> int:
            return self.shop.smile_balance(self.shopper)

        def purchases(self) -> list[dict[str, Any]]:
            with self.account.lock:
                return [
                    dict(f)
                    for f in self.account.fulfillments.values()
                    if f["customer_id"] == self.shopper.smile_id and f["name"] != GIFT
                ]

        def held(self) -> int:
            """Points the hub must still hold: unconfirmed attempts no sync has superseded."""
            final = timedelta(seconds=HOLD_OUTCOME_FINAL_SECONDS)
            return sum(
                self.requests[k][2]
                for k, began in self.unconfirmed.items()
                if self.last_sync - began <= final
            )

        def shown(self) -> int:
            reply = api.get(self.shop.path("loyalty"), token=self.shopper.token)
            assert reply.status == 200, reply.body
            return int(reply.json["points_balance"])

        def post(self, key: str) -> Any:
            product, body, _, _ = self.requests[key]
            return api.post(
                self.shop.path(f"rewards/{product}/redeem"),
                token=self.shopper.token,
                json_body=body,
                headers={"idempotency-key": key, "origin": self.shop.origin},
            )

        def check_success(self, key: str, reply: Any, expected_balance: int | None) -> None:
            body = reply.json
            _, _, _, name = self.requests[key]
            coupon = body["coupon"]
            assert coupon["name"] == name, (coupon, name)
            assert coupon["id"] not in self.gifts, "a foreign fulfillment was claimed"
            others = {b["coupon"]["id"] for k, b in self.done.items() if k != key}
            assert coupon["id"] not in others, "one coupon answered to two redemptions"
            if expected_balance is not None:
                assert body["points_balance"] == expected_balance, (body, expected_balance)
            self.done[key] = body
            self.unconfirmed.pop(key, None)
            figures["redemption model: 201"] += 1

        # ---------------------------------------------------------------- rules
        @rule(
            product=st.sampled_from([11, 12, 16]),
            spend=st.sampled_from(sorted(VARIABLE)),
            fault=st.sampled_from(FAULTS),
        )
        def redeem(self, product: int, spend: int, fault: str) -> None:
            key = str(uuid.uuid4())
            self.requests[key] = _request(product, spend)
            points = self.requests[key][2]
            before_smile, held = self.smile_balance(), self.held()
            available = before_smile - held
            faults = self.account.faults
            paths = {"paths": ["/points_products"]}
            if fault.startswith("refused"):
                status = int(fault.split("-")[1])
                faults.update({"fail_next": [status] * 3, **paths})
            elif fault == "down":
                faults.update({"fail_next": [], **paths})
                monkeypatch.setenv("SMILE_API_BASE_URL", "http://127.0.0.1:9/v1")
                config.cache_clear()
            elif fault.startswith("lost"):
                code = fault.split("-")[1]
                faults.update({"lose_next": [0 if code == "reset" else int(code)], **paths})
            elif fault.startswith("not-acted"):
                faults.update({"fail_next": [int(fault.split("-")[2])], **paths})
            elif fault == "slow":
                faults.update({"slow_seconds": 0.3, **paths})
            elif fault == "pending":
                self.account.issue_after = 30.0
            began = Offset.now()
            try:
                reply = self.post(key)
            finally:
                faults.update({"fail_next": [], "lose_next": [], "slow_seconds": 0.0, "paths": []})
                self.account.issue_after = 0.05
                monkeypatch.setenv("SMILE_API_BASE_URL", standin.url)
                config.cache_clear()
            figures[f"redemption model: fault {fault}"] += 1
            slug = (reply.json or {}).get("type", "").rsplit("/", 1)[-1]
            if points > available:
                assert (reply.status, slug) == (409, "insufficient-points"), reply.body
                del self.requests[key]  # a final answer: the key is done with
                return
            if reply.status == 201:
                assert fault in ("none", "slow", "pending") or fault.startswith("lost"), fault
                self.check_success(key, reply, available - points)
                assert self.smile_balance() == before_smile - points
                return
            if fault.startswith("not-acted"):
                assert (reply.status, slug) == (503, "redemption-unconfirmed"), reply.body
                assert reply.headers.get("retry-after")
                self.unconfirmed[key] = began
                figures["redemption model: unconfirmed"] += 1
            else:
                assert fault in ("refused-503", "refused-429", "down"), (fault, reply.body)
                assert (reply.status, slug) == (503, "upstream-unavailable"), reply.body
                del self.requests[key]
            assert self.smile_balance() == before_smile, "nothing was spent"

        @precondition(lambda self: bool(self.requests))
        @rule(data=st.data())
        def retry_same_key(self, data: st.DataObject) -> None:
            key = data.draw(st.sampled_from(sorted(self.requests)))
            before = self.smile_balance()
            reply = self.post(key)
            figures["redemption model: same-key retries"] += 1
            if key in self.done:
                assert reply.status == 201 and reply.json == self.done[key]
                assert reply.headers.get("idempotent-replayed") == "true"
                return
            began = self.unconfirmed[key]
            points = self.requests[key][2]
            final = Offset.now() - began >= timedelta(seconds=HOLD_OUTCOME_FINAL_SECONDS)
            slug = (reply.json or {}).get("type", "").rsplit("/", 1)[-1]
            if not final:
                assert (reply.status, slug) == (503, "redemption-unconfirmed"), reply.body
                assert self.smile_balance() == before, "a retry never buys before it knows"
                return
            if reply.status == 409:
                assert slug == "insufficient-points"
                assert before - (self.held() - points) < points
                del self.unconfirmed[key], self.requests[key]
                return
            assert reply.status == 201, reply.body
            self.check_success(key, reply, None)
            assert self.smile_balance() == before - points, "bought exactly once"

        @rule(clicks=st.integers(2, 3), product=st.sampled_from([11, 12]))
        def concurrent_clicks(self, clicks: int, product: int) -> None:
            keys = [str(uuid.uuid4()) for _ in range(clicks)]
            for key in keys:
                self.requests[key] = _request(product, None)
            points = FIXED[product][0]
            available = self.smile_balance() - self.held()
            with ThreadPoolExecutor(max_workers=clicks) as pool:
                replies = list(pool.map(self.post, keys))
            figures["redemption model: concurrent clicks"] += clicks
            won = [(k, r) for k, r in zip(keys, replies, strict=True) if r.status == 201]
            assert len(won) == min(clicks, available // points), [r.body for r in replies]
            expected = [available - points * (i + 1) for i in range(len(won))]
            assert sorted((r.json["points_balance"] for _, r in won), reverse=True) == expected
            for key, reply in won:
                self.check_success(key, reply, None)
            for key, reply in zip(keys, replies, strict=True):
                if reply.status != 201:
                    assert reply.status == 409, reply.body
                    del self.requests[key]

        @rule()
        def unrelated_reward_issued(self) -> None:
            assert self.shopper.smile_id is not None
            gift = self.account.add_fulfillment(self.shopper.smile_id, GIFT, issued=True)
            self.gifts.add(int(gift["id"]))

        @rule()
        def sync(self) -> None:
            assert self.shopper.smile_id is not None
            self.account.issue_pending()
            self.shop.snapshot_customer(self.shopper.smile_id, synced_at=clock.iso(Offset.now()))
            self.last_sync = Offset.now()

        @precondition(lambda self: bool(self.unconfirmed))
        @rule()
        def time_passes(self) -> None:
            Offset.seconds += HOLD_OUTCOME_FINAL_SECONDS + 1

        # ---------------------------------------------------------------- invariants
        @invariant()
        def ledger(self) -> None:
            if not hasattr(self, "shop"):
                return
            bought = self.purchases()
            assert len(self.done) <= len(bought) <= len(self.done) + len(self.unconfirmed)
            assert self.shown() == self.smile_balance() - self.held()

        def teardown(self) -> None:
            if not hasattr(self, "shop"):
                return
            # Settle everything: time passes, every unfinished click is retried with its key.
            Offset.seconds += HOLD_OUTCOME_FINAL_SECONDS + 1
            for key in sorted(self.unconfirmed):
                self.retry_same_key_for(key)
            self.account.issue_pending()
            assert len(self.purchases()) == len(self.done), "Smile purchases = 201s"
            self.sync()
            assert self.shown() == self.smile_balance(), "settled: the hub shows Smile's balance"
            coupons = api.get(self.shop.path("coupons"), token=self.shopper.token).json
            listed = {c["id"]: c for c in coupons["applied"] + coupons["available"]}
            for body in self.done.values():
                coupon = listed.get(body["coupon"]["id"])
                assert coupon is not None and coupon["code"], ("coupon lost", body)
            figures["redemption model: settled examples"] += 1

        def retry_same_key_for(self, key: str) -> None:
            reply = self.post(key)
            if reply.status == 201:
                self.check_success(key, reply, None)
            else:
                assert reply.status == 409, reply.body
                self.unconfirmed.pop(key, None)

    started = time.monotonic()
    run_state_machine_as_test(
        Redemptions,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        ),
    )
    figures["redemption model: seconds"] = round(time.monotonic() - started)
