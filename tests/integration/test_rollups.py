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
from pyroaring import BitMap

from customer_hub.infra.config import config
from customer_hub.infra.store import Table, serialize
from customer_hub.merchants.profiles import CreatedMerchant
from customer_hub.metrics import rollup_reads
from customer_hub.metrics.dynamo_store import DynamoMetricsStore
from customer_hub.metrics.keys import accounts_pk
from customer_hub.metrics.rollups import apply_stream_batch
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
    dashboard_body,
    money,
    play,
    scenario_traffic,
)
from tests.support.streams import stream_record

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
    fail_before, fail_after = {7, 30, 52}, {15, 41}

    def wrap(name: str) -> None:
        original = getattr(DynamoMetricsStore, name)
        originals[name] = original

        def write(self: DynamoMetricsStore, *args: Any, **kwargs: Any) -> Any:
            if self.table.name != metrics:
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

        setattr(DynamoMetricsStore, name, write)

    for name in ("transact", "write"):
        wrap(name)
    yield calls
    for name, original in originals.items():
        setattr(DynamoMetricsStore, name, original)


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


def _opened(merchant_id: str, customer: str, at: str, n: int) -> dict[str, Any]:
    item = {
        "pk": f"MERCHANT#{merchant_id}#EVENT#race-{n}",
        "sk": "EVENT",
        "kind": "hub_event",
        "merchant_id": merchant_id,
        "event_id": f"race-{n}",
        "type": "hub_opened",
        "occurred_at": at,
        "customer_id": customer,
    }
    return stream_record(item, str(n))


def test_visits_racing_another_batch_keep_one_ordinal_per_account(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's visits go in one guarded transaction; when another batch stored an account
    between our read and our write, the transaction is cancelled and the visits are redone
    one by one — the account keeps its ordinal and is still counted once."""
    mid = make_merchant(timezone=ZONE).merchant_id
    apply_stream_batch([_opened(mid, "501", "2026-03-02T10:00:00Z", 1)])
    real = DynamoMetricsStore.get_many

    def stale(self: DynamoMetricsStore, keys: Any, *, consistent: bool = False) -> Any:
        keys = list(keys)
        if all(pk == accounts_pk(mid) for pk, _sk in keys):
            return {}  # read before the first batch stored account 501
        return real(self, keys, consistent=consistent)

    monkeypatch.setattr(DynamoMetricsStore, "get_many", stale)
    apply_stream_batch(
        [
            _opened(mid, "501", "2026-03-03T10:00:00Z", 2),
            _opened(mid, "502", "2026-03-03T11:00:00Z", 3),
        ]
    )
    monkeypatch.undo()
    accounts = {str(i["sk"]): i for i in Table(config().metrics_table).query_all(accounts_pk(mid))}
    assert accounts["501"]["last_opened_at"] == "2026-03-03T10:00:00Z"
    assert accounts["501"]["ordinal"] != accounts["502"]["ordinal"]
    both_days = (date(2026, 3, 2), date(2026, 3, 3))
    assert rollup_reads.active_accounts(mid, [both_days, (both_days[1], both_days[1])]) == [2, 2]


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


# ---------------------------------------------------------------- dashboard (issue 6)
def _pct(now: int, before: int) -> float | None:
    return round((now - before) / before * 100, 1) if before else None


PERIODS = [
    ("2026-10-05", "2026-11-01", "previous_period"),
    ("2026-10-19", "2026-11-01", "previous_period"),
    ("2026-10-12", "2026-10-18", "none"),
    ("2026-10-25", "2026-10-25", "previous_period"),
    ("2027-10-05", "2027-11-01", "previous_year"),
]


@pytest.mark.parametrize(("start", "end", "compare"), PERIODS)
def test_dashboard_overview_equals_the_brute_force(
    api: InProcessApi, played: Played, expected: Expected, start: str, end: str, compare: str
) -> None:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    body = dashboard_body(
        api, played.merchant, "overview", period="custom", start=start, end=end, compare=compare
    )
    assert body["data_available"] is True
    assert body["total_accounts"] == {"value": sum(expected.new_accounts.values())}
    service = expected.total(lambda d: sum(expected.service[d].values()), first, last)
    revenue = expected.total(lambda d: expected.revenue[d], first, last)
    assert body["service_interactions"]["value"] == service
    assert body["active_accounts"]["value"] == expected.active(first, last)
    assert body["revenue_generated"]["value"] == money(revenue)
    if compare == "none":
        assert body["comparison"] is None
        return
    days = (last - first).days + 1
    p_first = (
        first - timedelta(days=days)
        if compare == "previous_period"
        else first.replace(year=first.year - 1)
    )
    p_last = (
        first - timedelta(days=1)
        if compare == "previous_period"
        else last.replace(year=last.year - 1)
    )
    assert body["comparison"] == {
        "start": p_first.isoformat(),
        "end": p_last.isoformat(),
        "type": compare,
    }
    p_service = expected.total(lambda d: sum(expected.service[d].values()), p_first, p_last)
    p_revenue = expected.total(lambda d: expected.revenue[d], p_first, p_last)
    p_active = expected.active(p_first, p_last)
    assert body["service_interactions"]["previous"] == p_service
    assert body["service_interactions"]["change_pct"] == _pct(service, p_service)
    assert body["active_accounts"]["previous"] == p_active
    assert body["active_accounts"]["change_pct"] == _pct(expected.active(first, last), p_active)
    assert body["revenue_generated"]["previous"] == money(p_revenue)
    assert body["revenue_generated"]["change_pct"] == _pct(revenue, p_revenue)


def test_revenue_report_pages_add_up_to_the_overview(
    api: InProcessApi, played: Played, expected: Expected
) -> None:
    query = {"period": "custom", "start": "2026-10-01", "end": "2026-11-05"}
    overview = dashboard_body(api, played.merchant, "overview", **query)
    lines: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        page = dashboard_body(
            api,
            played.merchant,
            "revenue-report",
            **query,
            **({"cursor": cursor} if cursor else {}),
        )
        assert page["total"] == overview["revenue_generated"]["value"]
        lines += page["lines"]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    total = sum(round(float(line["amount"]["amount"]) * 100) for line in lines)
    assert money(total) == overview["revenue_generated"]["value"]
    ordered = [line["ordered_at"] for line in lines]
    assert ordered == sorted(ordered, reverse=True), "newest first"
    got = sorted(
        (
            line["order_id"],
            line["product_id"],
            round(float(line["amount"]["amount"]) * 100),
            line["touchpoint"],
        )
        for line in lines
    )
    want = sorted(
        (r["order_id"], r["product_id"], r["amount"], r["touchpoint"]) for r in expected.report
    )
    assert got == want


def test_service_interactions_and_aov_equal_the_brute_force(
    api: InProcessApi, played: Played, expected: Expected
) -> None:
    query = {"period": "custom", "start": "2026-10-05", "end": "2026-11-01", "interval": "week"}
    first, last = date(2026, 10, 5), date(2026, 11, 1)
    body = dashboard_body(api, played.merchant, "service-interactions", **query)
    for kind, value in body["totals"].items():
        assert value == expected.total(lambda d, k=kind: expected.service[d][k], first, last)
    assert [p["start"] for p in body["series"]] == [
        "2026-10-05",
        "2026-10-12",
        "2026-10-19",
        "2026-10-26",
    ]
    week = body["series"][2]
    assert week["help_clicked"] == expected.total(
        lambda d: expected.service[d]["help_clicked"], date(2026, 10, 19), date(2026, 10, 25)
    )
    aov = dashboard_body(api, played.merchant, "average-order-value", **query)
    orders = expected.total(lambda d: expected.aov_orders[d], first, last)
    revenue = expected.total(lambda d: expected.aov_revenue[d], first, last)
    assert aov["orders"] == orders
    assert aov["value"] == money(round(revenue / orders))
    assert sum(p["orders"] for p in aov["series"]) == orders


def test_a_366_day_overview_with_comparison_costs_at_most_8_requests(
    api: InProcessApi, played: Played, monkeypatch: pytest.MonkeyPatch
) -> None:
    from customer_hub.infra import store

    calls: list[str] = []
    original = store.client

    def counting(service: str) -> Any:
        made = original(service)
        made.meta.events.register(
            "after-call.dynamodb",
            lambda model, **_: calls.append(model.name),
            unique_id="count-dashboard-requests",  # clients share an emitter: count once
        )
        return made

    monkeypatch.setattr(store, "client", counting)
    dashboard_body(
        api, played.merchant, "overview", period="custom", start="2025-11-01", end="2026-11-01"
    )
    assert 0 < len(calls) <= 8, " ".join(calls)
    assert "Scan" not in calls


def test_another_merchants_key_never_sees_these_figures(api: InProcessApi, played: Played) -> None:
    other = make_merchant(timezone=ZONE)
    launch(api, other)
    query = {"period": "custom", "start": "2026-10-01", "end": "2026-11-05"}
    mine = dashboard_body(api, played.merchant, "revenue-report", **query)
    assert mine["lines"]
    theirs = dashboard_body(api, other, "overview", **query)
    assert theirs["total_accounts"] == {"value": 0}
    assert theirs["active_accounts"]["value"] == 0 and theirs["service_interactions"]["value"] == 0
    report = dashboard_body(api, other, "revenue-report", **query)
    assert report["lines"] == [] and report["total"] == money(0)
    if mine["next_cursor"]:
        replayed = dashboard_body(api, other, "revenue-report", **query, cursor=mine["next_cursor"])
        assert replayed["lines"] == []
    assert dashboard_body(api, other, "inactive-accounts", days=1)["accounts"] == []


def test_before_the_first_launch_no_data_is_available(api: InProcessApi) -> None:
    fresh = make_merchant(timezone=ZONE)
    body = dashboard_body(api, fresh, "overview")
    assert body["data_available"] is False
    assert body["active_accounts"] == {"value": 0, "previous": 0, "change_pct": None}


def test_inactive_accounts_lists_who_has_not_opened_the_hub(
    api: InProcessApi, played: Played, expected: Expected
) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = dashboard_body(
            api,
            played.merchant,
            "inactive-accounts",
            days=30,
            **({"cursor": cursor} if cursor else {}),
        )
        seen += page["accounts"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    from customer_hub.infra import clock

    cutoff = clock.now() - timedelta(days=30)
    want = {
        c
        for c in expected.accounts
        if c not in expected.last_opened or expected.last_opened[c] < cutoff
    }
    assert {a["customer_id"] for a in seen} == want


def test_bitmaps_sharded_by_ordinal_give_the_same_figures(
    played: Played, expected: Expected, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 8 ordinals per shard the scenario's accounts spread over many shard items; the OR
    of every shard still gives the exact distinct counts (issue 18: items bounded at 10 M)."""
    from customer_hub.metrics import model as metrics
    from customer_hub.metrics.keys import active_pk

    monkeypatch.setattr(metrics, "SHARD_BITS", 3)
    merchant = make_merchant(timezone=ZONE)
    pump = _rollup_pump(stack)
    pump.replay(_as_merchant(played.records, played.merchant.merchant_id, merchant.merchant_id))
    assert pump.parked == 0
    assert_rollups_match(merchant, expected)
    items = list(Table(config().metrics_table).query_all(active_pk(merchant.merchant_id)))
    shards = {str(i["sk"]).partition("#S")[2] for i in items}
    assert len(shards) >= 3, shards
    assert all(len(BitMap.deserialize(i["bitmap"])) <= 8 for i in items)


def test_a_page_of_inactive_accounts_is_one_query_however_many_are_active(
    api: InProcessApi, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3 000 accounts, 99 % active today: each page of the 30 idle ones costs one request."""
    from customer_hub.infra import clock
    from customer_hub.metrics.keys import idle_sk

    merchant = make_merchant(timezone=ZONE)
    table = Table(config().metrics_table)
    now = clock.now()
    recent, old = clock.iso(now - timedelta(hours=1)), clock.iso(now - timedelta(days=90))
    items = []
    for n in range(3000):
        customer = f"{n:05d}"
        last = None if n % 200 == 0 else old if n % 200 == 1 else recent
        item = {"pk": accounts_pk(merchant.merchant_id), "sk": customer, "ordinal": n}
        item |= {"email": f"c{n}@example.com", "idle_sk": idle_sk(customer, last)}
        items.append(item | ({"last_opened_at": last} if last else {}))
    client = table._client
    for start in range(0, len(items), 25):
        client.batch_write_item(
            RequestItems={
                table.name: [{"PutRequest": {"Item": serialize(i)}} for i in items[start:][:25]]
            }
        )
    queries = []
    real = Table.query

    def counted(self: Table, *args: Any, **kwargs: Any) -> Any:
        queries.append(kwargs.get("index"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Table, "query", counted)
    monkeypatch.setattr("customer_hub.metrics.dashboard.ACCOUNTS_PAGE", 10)
    pages = []
    cursor = None
    while True:
        query = {"days": 30, **({"cursor": cursor} if cursor else {})}
        pages.append(dashboard_body(api, merchant, "inactive-accounts", **query))
        cursor = pages[-1]["next_cursor"]
        if not cursor:
            break
    got = [a for page in pages for a in page["accounts"]]
    want = {f"{n:05d}" for n in range(3000) if n % 200 in (0, 1)}
    assert {a["customer_id"] for a in got} == want and len(got) == 30
    assert got[0]["last_opened_at"] is None and got[-1]["last_opened_at"] == old
    assert len(pages) <= 4 and queries == ["idle"] * len(pages)
