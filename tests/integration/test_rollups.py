"""Roll-ups through the real handlers and the local stream plumbing equal a brute force.

The same generated multi-week scenario is played for three fresh merchants: delivered once,
with every stream batch delivered twice, and with writes failing in the middle of batches
(some before, some after DynamoDB applied them). All three must give the brute force's figures.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
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


def test_the_scenario_rolls_up_to_the_brute_force(
    api: InProcessApi,
    stack: LocalStack,
    traffic: Traffic,
    expected: Expected,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    merchant = make_merchant(timezone=ZONE)
    launch(api, merchant)
    play(api, stack, merchant, traffic, monkeypatch)
    assert _rollup_pump(stack).parked == 0
    assert_rollups_match(merchant, expected)


@pytest.fixture
def twice(stack: LocalStack) -> Iterator[StreamPump]:
    pump = _rollup_pump(stack)
    pump.deliveries_per_batch = 2
    yield pump
    pump.deliveries_per_batch = 1


def test_every_batch_delivered_twice_gives_the_same_figures(
    api: InProcessApi,
    stack: LocalStack,
    traffic: Traffic,
    expected: Expected,
    twice: StreamPump,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    merchant = make_merchant(timezone=ZONE)
    launch(api, merchant)
    play(api, stack, merchant, traffic, monkeypatch)
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
    api: InProcessApi,
    stack: LocalStack,
    traffic: Traffic,
    expected: Expected,
    failing_writes: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    merchant = make_merchant(timezone=ZONE)
    launch(api, merchant)
    before = _rollup_pump(stack).invocations
    play(api, stack, merchant, traffic, monkeypatch)
    assert failing_writes["failed"] == 5, "every injected failure happened"
    assert _rollup_pump(stack).invocations > before
    assert _rollup_pump(stack).parked == 0
    assert_rollups_match(merchant, expected)
