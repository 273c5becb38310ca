"""Faults in DynamoDB: throttling, cancelled transactions, lost responses and an outage injected
with botocore event hooks (tests/support/ddb_faults.py) into the stream functions, while the
generated multi-week scenario plays through the real handlers and the local stream plumbing
(partial batch responses, bisection, bounded retries, the OnFailure queue, then a redrive).
Afterwards every roll-up and dashboard figure equals the brute force: nothing lost or doubled.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from customer_hub.infra.config import config
from customer_hub.infra.store import Table
from customer_hub.loyalty.snapshots import CouponRecord, email_pk, shopper_pk
from customer_hub.merchants.profiles import CreatedMerchant
from customer_hub.metrics.hub_events import event_pk
from customer_hub.shoppers.coupons import mark_applied
from hubdev.pumps import StreamPump
from hubdev.redrive import RedriveResult, redrive
from hubdev.stack import LocalStack
from hubdev.traffic import Traffic
from tests.conftest import make_merchant
from tests.integration.test_rollups import assert_rollups_match
from tests.support.api import InProcessApi, Reply, assert_problem
from tests.support.ddb_faults import DynamoFaults, FaultRates
from tests.support.hub import launch, post_events
from tests.support.scenario import SERVICE as SERVICE_KINDS
from tests.support.scenario import (
    Expected,
    brute_force,
    dashboard_body,
    money,
    play,
    scenario_traffic,
)

ZONE = "Europe/Warsaw"
ROLLUPS = "MetricRollupsFunction"
COUPONS = "MarkCouponsUsedFunction"
DLQS = {ROLLUPS: "MetricRollupsDeadLetterQueue", COUPONS: "MarkCouponsUsedDeadLetterQueue"}

# Per DynamoDB request of a stream function (the roll-ups coalesce a batch into few requests,
# so the rates are high to make every kind of fault happen many times); plus an outage of 16
# invocations in a row, long enough for single records to exhaust the event source's 5
# retries and be parked on the OnFailure queue.
RATES = FaultRates(
    throttled_retried=0.15,
    throttled_exhausted=0.03,
    transaction_cancelled=0.10,
    lost_response_retried=0.05,
    lost_response_exhausted=0.03,
    unprocessed=0.15,
    outage=range(8, 24),
)


def _pump(stack: LocalStack, function: str) -> StreamPump:
    return next(p for p in stack.stream_pumps if p.source.function == function)


def _redrive_until_empty(stack: LocalStack, function: str, rounds: int = 10) -> RedriveResult:
    streams = _pump(stack, function).client
    url = stack.resources.queue_urls[DLQS[function]]
    total = RedriveResult()
    for _ in range(rounds):
        result = redrive(stack.sqs, streams, url, lambda e: stack.runtime.invoke(function, e))
        total.messages += result.messages
        total.records += result.records
        total.redriven += result.redriven
        if result.failed == 0:
            return total
    raise AssertionError(f"the redrive never emptied {DLQS[function]}")


def _queued(stack: LocalStack, function: str) -> int:
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.resources.queue_urls[DLQS[function]],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


# ---------------------------------------------------------------- coupons used by orders
@dataclass(frozen=True)
class SeededCoupon:
    fulfillment_id: int
    email: str
    customer_id: str
    orders: frozenset[str]  # the orders whose discount codes name it


def seed_coupons(merchant: CreatedMerchant, traffic: Traffic) -> list[SeededCoupon]:
    """An applied hub coupon for every discount code the scenario's orders use (Smile's codes
    are unique: one coupon per code, owned by the first shopper whose order uses it)."""
    owners: dict[str, tuple[str, str]] = {}
    orders: dict[str, set[str]] = defaultdict(set)
    for delivery in traffic.deliveries:
        if delivery.shopper is not None or delivery.topic != "orders/create":
            continue
        customer = delivery.body.get("customer")
        for discount in delivery.body.get("discount_codes") or []:
            orders[discount["code"]].add(str(delivery.body["id"]))
            if customer:
                owners.setdefault(discount["code"], (str(customer["email"]), str(customer["id"])))
    seeded = []
    for n, (code, (email, customer_id)) in enumerate(sorted(owners.items()), 1):
        record = CouponRecord(
            fulfillment_id=900_000 + n,
            smile_customer_id=800_000 + n,
            name="$5 off",
            code=code,
            updated_at="2026-10-01T00:00:00Z",
        )
        mark_applied(merchant.merchant_id, email, customer_id, record)
        seeded.append(
            SeededCoupon(record.fulfillment_id, email, customer_id, frozenset(orders[code]))
        )
    return seeded


def assert_coupons_used(merchant: CreatedMerchant, seeded: list[SeededCoupon]) -> None:
    data = Table(config().data_table)
    for coupon in seeded:
        for pk in (
            email_pk(merchant.merchant_id, coupon.email),
            shopper_pk(merchant.merchant_id, coupon.customer_id),
        ):
            item = data.get(pk, f"COUPON#{coupon.fulfillment_id}", consistent=True)
            assert item is not None and item.get("used_in_order_id") in coupon.orders, (pk, item)


# ---------------------------------------------------------------- dashboard
def assert_dashboard_matches(
    api: InProcessApi, merchant: CreatedMerchant, expected: Expected
) -> int:
    """The dashboard routes' figures equal the brute force; → figures compared."""
    compared = 0
    for start, end in [("2026-10-05", "2026-11-01"), ("2026-10-19", "2026-10-25")]:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        query = {"period": "custom", "start": start, "end": end}
        body = dashboard_body(api, merchant, "overview", **query, compare="none")
        assert body["total_accounts"] == {"value": sum(expected.new_accounts.values())}
        assert body["service_interactions"]["value"] == expected.total(
            lambda d: sum(expected.service[d].values()), first, last
        )
        assert body["active_accounts"]["value"] == expected.active(first, last)
        assert body["revenue_generated"]["value"] == money(
            expected.total(lambda d: expected.revenue[d], first, last)
        )
        service = dashboard_body(api, merchant, "service-interactions", **query, interval="week")
        for kind, value in service["totals"].items():
            assert value == expected.total(lambda d, k=kind: expected.service[d][k], first, last)
        aov = dashboard_body(api, merchant, "average-order-value", **query)
        orders = expected.total(lambda d: expected.aov_orders[d], first, last)
        assert aov["orders"] == orders
        revenue = expected.total(lambda d: expected.aov_revenue[d], first, last)
        assert aov["value"] == money(round(revenue / orders) if orders else 0)
        compared += 4 + len(service["totals"]) + 2
    query = {"period": "custom", "start": "2026-10-01", "end": "2026-11-05"}
    lines: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = dashboard_body(
            api, merchant, "revenue-report", **query, **({"cursor": cursor} if cursor else {})
        )
        lines += page["lines"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    got = sorted(
        (line["order_id"], line["product_id"], round(float(line["amount"]["amount"]) * 100))
        for line in lines
    )
    want = sorted((r["order_id"], r["product_id"], r["amount"]) for r in expected.report)
    assert got == want, "every attributed line once"
    return compared + len(want)


# ---------------------------------------------------------------- the scenario under faults
def test_the_scenario_under_dynamodb_faults_rolls_up_exactly(
    api: InProcessApi, stack: LocalStack, figures: Counter[str]
) -> None:
    traffic = scenario_traffic()
    expected = brute_force(traffic, ZoneInfo(ZONE))
    merchant = make_merchant(timezone=ZONE)
    launch(api, merchant)
    coupons = seed_coupons(merchant, traffic)
    assert len(coupons) >= 3
    pump, coupon_pump = _pump(stack, ROLLUPS), _pump(stack, COUPONS)
    parked, invocations = pump.parked, pump.invocations
    coupons_parked = coupon_pump.parked
    queued = {f: _queued(stack, f) for f in DLQS}
    records: set[str] = set()

    def count(event: dict[str, Any]) -> dict[str, Any]:
        records.update(r["dynamodb"]["SequenceNumber"] for r in event["Records"])
        return event

    pump.transform = count
    faults = DynamoFaults(stack, (ROLLUPS, COUPONS), RATES, seed=20261123)
    try:
        with faults.installed(), pytest.MonkeyPatch.context() as clock_patch:
            play(api, stack, merchant, traffic, clock_patch)
            parked_now = pump.parked - parked
            coupons_parked_now = coupon_pump.parked - coupons_parked
            # Bounded retries never lose silently: every parked batch is on its OnFailure queue.
            assert parked_now > 0, "the outage made records exhaust their retries"
            assert coupons_parked_now > 0, "in both stream functions"
            assert _queued(stack, ROLLUPS) > queued[ROLLUPS]
            assert _queued(stack, COUPONS) > queued[COUPONS]
            redriven = {f: _redrive_until_empty(stack, f) for f in DLQS}
    finally:
        pump.transform = None
    assert all(_queued(stack, f) == 0 for f in DLQS), "the redrive emptied the queues"
    assert redriven[ROLLUPS].records >= parked_now
    assert redriven[COUPONS].records >= coupons_parked_now

    # ---------------------------------------------------------- nothing lost, nothing doubled
    assert_rollups_match(merchant, expected)
    compared = assert_dashboard_matches(api, merchant, expected)
    assert_coupons_used(merchant, coupons)

    assert faults.total_injected > 100, faults.injected
    kinds = {name for name, n in faults.injected.items() if n}
    assert len(kinds) == 7, faults.injected  # every kind of fault happened
    assert faults.seen["conditional-check failures met (real)"] > 0
    figures["dynamodb faults: scenario records through the stream"] += len(records)
    figures["dynamodb faults: roll-up stream invocations"] += pump.invocations - invocations
    figures["dynamodb faults: invocations failed and retried/bisected"] += faults.failed_invocations
    for name, n in sorted(faults.injected.items()):
        figures[f"dynamodb faults injected: {name}"] += n
    figures["dynamodb faults: real conditional-check failures met"] += faults.seen[
        "conditional-check failures met (real)"
    ]
    figures["dynamodb faults: roll-up records parked on the OnFailure queue"] += parked_now
    figures["dynamodb faults: coupons-used records parked on the OnFailure queue"] += (
        coupons_parked_now
    )
    figures["dynamodb faults: OnFailure messages redriven"] += sum(
        r.redriven for r in redriven.values()
    )
    figures["dynamodb faults: coupons marked used by orders (none lost)"] += len(coupons)
    figures["dynamodb faults: dashboard figures compared to the brute force"] += compared
    figures["dynamodb faults: figure mismatches (lost or doubled)"] += 0


# ---------------------------------------------------------------- what users see
BUSY = (503, "temporarily-unavailable")
MAX_TRIES = 40


def _slug(reply: Reply) -> str:
    body = reply.json if reply.content_type.startswith("application/problem+json") else {}
    return str((body or {}).get("type", "")).rsplit("/", 1)[-1]


def _assert_clear_problem(reply: Reply) -> None:
    """A throttled request is a retryable problem+json that says when to retry; nothing else."""
    assert (reply.status, _slug(reply)) == BUSY, (reply.status, reply.body[:300])
    assert_problem(reply, *BUSY)
    assert reply.headers.get("retry-after") == "1"
    assert b"Traceback" not in reply.body and b"botocore" not in reply.body


def test_throttled_event_batches_answer_503_and_a_retry_records_each_event_once(
    api: InProcessApi, stack: LocalStack, figures: Counter[str]
) -> None:
    merchant = make_merchant(timezone=ZONE)
    launch(api, merchant)
    now = datetime.now(UTC).replace(microsecond=0)
    kinds = ("help_clicked", "chat_started", "order_tracked", "hub_opened", "product_clicked")
    batches = [
        [
            {
                "id": f"evt-{n}-{i}",
                "type": kinds[i % len(kinds)],
                "occurred_at": (now - timedelta(minutes=n)).isoformat().replace("+00:00", "Z"),
                **({"product_id": "42"} if kinds[i % len(kinds)] == "product_clicked" else {}),
            }
            for i in range(5)
        ]
        for n in range(12)
    ]
    rates = FaultRates(throttled_retried=0.2, throttled_exhausted=0.3, lost_response_exhausted=0.15)
    faults = DynamoFaults(stack, ("PostEventsFunction",), rates, seed=9)
    answers: list[Reply] = []
    with faults.installed():
        for batch in batches:
            for _ in range(MAX_TRIES):  # the storefront resends the same batch (same ids)
                reply = post_events(api, merchant, batch, customer_id="9001", email="f@example.com")
                answers.append(reply)
                if reply.status == 202:
                    assert reply.json["accepted"] + reply.json["duplicates"] == len(batch)
                    break
                _assert_clear_problem(reply)
            else:
                raise AssertionError("a batch never got through")
    busy = [r for r in answers if r.status != 202]
    assert len(busy) >= 5, faults.injected
    assert faults.injected["writes applied, response lost past the SDK's retries"] > 0

    # Nothing half-written: every event stored once, counted once by the roll-ups.
    stack.drain()
    day = now.astimezone(ZoneInfo(ZONE)).date().isoformat()
    start = (now - timedelta(minutes=12)).astimezone(ZoneInfo(ZONE)).date().isoformat()
    overview = dashboard_body(
        api, merchant, "overview", period="custom", start=start, end=day, compare="none"
    )
    service = sum(1 for batch in batches for e in batch if e["type"] in SERVICE_KINDS)
    assert overview["service_interactions"]["value"] == service
    assert overview["active_accounts"]["value"] == 1
    stored = Table(config().events_table).batch_get(
        [(event_pk(merchant.merchant_id, e["id"]), "EVENT") for b in batches for e in b]
    )
    assert len(stored) == sum(len(b) for b in batches)

    figures["dynamodb faults: POST /events requests (throttled route)"] += len(answers)
    figures["dynamodb faults: POST /events answered 503 + Retry-After"] += len(busy)
    figures["dynamodb faults: POST /events answered 500"] += sum(
        1 for r in answers if r.status >= 500 and r.status != 503
    )
    for name, n in sorted(faults.injected.items()):
        figures[f"dynamodb faults injected (routes): {name}"] += n


def test_a_throttled_dashboard_and_authorizer_answer_503_never_500(
    api: InProcessApi, stack: LocalStack, figures: Counter[str]
) -> None:
    merchant = make_merchant(timezone=ZONE)
    launch(api, merchant)
    query = {"period": "custom", "start": "2026-10-05", "end": "2026-11-01"}
    clean = dashboard_body(api, merchant, "overview", **query)
    rates = FaultRates(throttled_retried=0.2, throttled_exhausted=0.3, unprocessed=0.2)
    faults = DynamoFaults(
        stack, ("GetDashboardOverviewFunction", "MerchantAuthorizerFunction"), rates, seed=5
    )
    answers: list[Reply] = []
    with faults.installed():
        for n in range(30):
            # A fresh key's lookup reaches DynamoDB (the authorizer caches keys it found).
            other = make_merchant(timezone=ZONE) if n % 3 == 0 else merchant
            reply = api.get("/v1/dashboard/overview", api_key=other.api_key, query=query)
            answers.append(reply)
            if reply.status != 200:
                _assert_clear_problem(reply)
            elif other is merchant:
                assert reply.json == clean, "a throttled read never answers partial figures"
    busy = [r for r in answers if r.status != 200]
    assert busy and len(busy) < len(answers), faults.injected
    figures["dynamodb faults: dashboard/authorizer requests (throttled)"] += len(answers)
    figures["dynamodb faults: dashboard/authorizer answered 503 + Retry-After"] += len(busy)
    figures["dynamodb faults: dashboard/authorizer answered 500"] += 0
    for name, n in sorted(faults.injected.items()):
        figures[f"dynamodb faults injected (routes): {name}"] += n
