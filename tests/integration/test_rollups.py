"""Roll-ups through the real handlers and the local stream plumbing equal a brute force.

The same generated multi-week scenario is played for three fresh merchants: delivered once,
with every stream batch delivered twice, and with writes failing in the middle of batches
(some before, some after DynamoDB applied them). All three must give the brute force's figures.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from customer_hub import rollup_reads
from customer_hub.config import config
from customer_hub.merchants import CreatedMerchant
from customer_hub.rollups import accounts_pk
from customer_hub.store import Table
from hubdev.pumps import StreamPump
from hubdev.stack import LocalStack
from hubdev.traffic import Traffic
from tests.conftest import make_merchant
from tests.support.api import InProcessApi
from tests.support.hub import launch
from tests.support.scenario import (
    SCENARIO_DAYS,
    SCENARIO_START,
    Expected,
    brute_force,
    play,
    scenario_traffic,
)

ZONE = "Europe/Warsaw"


@pytest.fixture(scope="module")
def traffic() -> Traffic:
    return scenario_traffic()


@pytest.fixture(scope="module")
def expected(traffic: Traffic) -> Expected:
    return brute_force(traffic, ZoneInfo(ZONE))


def _rollup_pump(stack: LocalStack) -> StreamPump:
    return next(p for p in stack.stream_pumps if p.source.function == "MetricRollupsFunction")


def _days() -> list[date]:
    first = SCENARIO_START.date() - timedelta(days=1)
    return [first + timedelta(days=n) for n in range(SCENARIO_DAYS + 4)]


def assert_rollups_match(merchant: CreatedMerchant, expected: Expected) -> None:
    days = _days()
    counters = rollup_reads.day_counters(merchant.merchant_id, days[0], days[-1])
    for day in days:
        got = counters.get(day, {})
        for kind in (
            "order_tracked",
            "return_started",
            "coupon_applied",
            "help_clicked",
            "chat_started",
        ):
            assert got.get(f"si_{kind}", 0) == expected.service[day][kind], (day, kind)
        assert got.get("new_accounts", 0) == expected.new_accounts[day], day
        assert got.get("aov_orders", 0) == expected.aov_orders[day], day
        assert got.get("aov_revenue", 0) == expected.aov_revenue[day], day
        assert got.get("revenue", 0) == expected.revenue[day], day
    assert sum(expected.revenue.values()) > 0 and sum(expected.aov_orders.values()) > 0
    totals = rollup_reads.totals(merchant.merchant_id)
    assert totals["accounts"] == sum(expected.new_accounts.values())
    rng = random.Random(3)
    ranges = [(day, day) for day in days]
    ranges += [
        (days[0], days[-1]),
        (days[3], days[3 + 6]),
        (days[0], days[0] + timedelta(days=365)),
    ]
    for _ in range(30):
        first = rng.choice(days)
        ranges.append((first, first + timedelta(days=rng.randrange(40))))
    got_active = rollup_reads.active_accounts(merchant.merchant_id, ranges)
    assert got_active == [expected.active(first, last) for first, last in ranges]
    accounts = {
        str(item["sk"]): item
        for item in Table(config().metrics_table).query_all(accounts_pk(merchant.merchant_id))
    }
    for customer, last in expected.last_opened.items():
        assert accounts[customer]["last_opened_at"] == last.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Played:
    merchant: CreatedMerchant
    records: list[dict[str, Any]]


@pytest.fixture(scope="module")
def played(api: InProcessApi, stack: LocalStack, traffic: Traffic) -> Iterator[Played]:
    """The scenario through the HTTP handlers once; the roll-up stream records captured."""
    merchant = make_merchant(timezone=ZONE)
    launch(api, merchant)
    pump = _rollup_pump(stack)
    captured: list[dict[str, Any]] = []

    def capture(event: dict[str, Any]) -> dict[str, Any]:
        captured.extend(copy.deepcopy(event["Records"]))
        return event

    pump.transform = capture
    with pytest.MonkeyPatch.context() as monkeypatch:
        play(api, stack, merchant, traffic, monkeypatch)
    pump.transform = None
    unique = {
        r["dynamodb"]["SequenceNumber"]: r for r in captured if merchant.merchant_id in str(r)
    }
    yield Played(merchant, [unique[n] for n in sorted(unique, key=int)])


def _as_merchant(records: list[dict[str, Any]], old: str, new: str) -> list[dict[str, Any]]:
    """The same stream records, as if a second merchant had received the same traffic."""
    return [json.loads(json.dumps(record).replace(old, new)) for record in records]


def test_the_scenario_rolls_up_to_the_brute_force(
    stack: LocalStack, played: Played, expected: Expected
) -> None:
    assert _rollup_pump(stack).parked == 0
    assert len(played.records) > 300
    assert_rollups_match(played.merchant, expected)


@pytest.fixture
def twice(stack: LocalStack) -> Iterator[StreamPump]:
    pump = _rollup_pump(stack)
    pump.deliveries_per_batch = 2
    yield pump
    pump.deliveries_per_batch = 1


def test_every_batch_delivered_twice_gives_the_same_figures(
    played: Played, expected: Expected, twice: StreamPump
) -> None:
    merchant = make_merchant(timezone=ZONE)
    twice.replay(_as_merchant(played.records, played.merchant.merchant_id, merchant.merchant_id))
    assert twice.parked == 0
    assert_rollups_match(merchant, expected)


class InjectedFailure(RuntimeError):
    pass


@pytest.fixture
def failing_writes(stack: LocalStack) -> Iterator[dict[str, int]]:
    """Metrics-table writes fail now and then: before reaching DynamoDB, or after it applied
    them (the worst case: the effect is there but the function reports a failure)."""
    metrics = config().metrics_table
    calls = {"n": 0, "failed": 0}
    originals: dict[str, Any] = {}
    # A few failures per run, never enough for one batch to exhaust its retries.
    fail_before, fail_after = {7, 41, 90}, {15, 63}

    def wrap(name: str) -> None:
        original = getattr(Table, name)
        originals[name] = original

        def write(self: Table, *args: Any, **kwargs: Any) -> Any:
            if self.name != metrics:
                return original(self, *args, **kwargs)
            calls["n"] += 1
            if calls["n"] in fail_before:
                calls["failed"] += 1
                raise InjectedFailure(f"before write {calls['n']}")
            result = original(self, *args, **kwargs)
            if calls["n"] in fail_after:
                calls["failed"] += 1
                raise InjectedFailure(f"after write {calls['n']}")
            return result

        setattr(Table, name, write)

    for name in ("transact_write", "put", "update"):
        wrap(name)
    yield calls
    for name, original in originals.items():
        setattr(Table, name, original)


def test_failures_in_the_middle_of_batches_give_the_same_figures(
    stack: LocalStack, played: Played, expected: Expected, failing_writes: dict[str, int]
) -> None:
    merchant = make_merchant(timezone=ZONE)
    pump = _rollup_pump(stack)
    before = pump.invocations
    pump.replay(_as_merchant(played.records, played.merchant.merchant_id, merchant.merchant_id))
    assert failing_writes["failed"] == 5, "every injected failure happened"
    assert pump.invocations > before + len(played.records) // pump.source.batch_size + 1
    assert pump.parked == 0
    assert_rollups_match(merchant, expected)


def test_hub_dev_demo_traffic_produces_live_rollups(stack: LocalStack) -> None:
    from hubdev.demo import seed_hub_traffic

    merchant = make_merchant(timezone=ZONE)
    seed_hub_traffic(merchant.merchant_id)
    stack.drain()
    today = date.today()
    counters = rollup_reads.day_counters(merchant.merchant_id, today - timedelta(days=20), today)
    assert sum(c.get("si_help_clicked", 0) + c.get("si_chat_started", 0) for c in counters.values())
    assert sum(c.get("revenue", 0) for c in counters.values()) > 0
    assert rollup_reads.totals(merchant.merchant_id)["accounts"] > 0
    assert rollup_reads.active_accounts(
        merchant.merchant_id, [(today - timedelta(days=20), today)]
    )[0]
