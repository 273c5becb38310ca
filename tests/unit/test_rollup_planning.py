"""Roll-up planning against the in-memory metrics store: exactly-once figures, redeliveries,
late touch-points, racing batches and request costs — in milliseconds, without moto."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pyroaring import BitMap

from customer_hub.metrics import rollup_reads
from customer_hub.metrics.keys import TOTALS_SK, accounts_pk, revenue_pk, totals_pk
from customer_hub.metrics.memory_store import MemoryMetricsStore
from customer_hub.metrics.rollup_accounts import plan_visit
from customer_hub.metrics.rollup_counters import counter_chunks
from customer_hub.metrics.rollups import roll_up
from customer_hub.metrics.store import Cancelled, Key, Update
from customer_hub.metrics.stream import BatchOutcome, Change, MerchantBatch, read_changes
from tests.support.streams import stream_record

MID = "m_unit"
ZONE = ZoneInfo("Europe/Warsaw")
DAY = date(2026, 3, 2)


def _event(n: int, kind: str, customer: str | None, at: str, **extra: Any) -> Change:
    item = {
        "pk": f"MERCHANT#{MID}#EVENT#e{n}",
        "sk": "EVENT",
        "kind": "hub_event",
        "merchant_id": MID,
        "event_id": f"e{n}",
        "type": kind,
        "occurred_at": at,
        **({"customer_id": customer} if customer else {}),
        **extra,
    }
    return Change(str(n), item["pk"], "hub_event", MID, item)


def _account(n: int, customer: str, at: str, email: str | None = None) -> Change:
    item = {
        "pk": f"MERCHANT#{MID}#ACCOUNT#{customer}",
        "sk": "ACCOUNT",
        "kind": "account_created",
        "merchant_id": MID,
        "customer_id": customer,
        "created_at": at,
        **({"email": email} if email else {}),
    }
    return Change(str(n), item["pk"], "account_created", MID, item)


def _order(n: int, order_id: str, customer: str, at: str, lines: list[tuple[str, int]]) -> Change:
    item = {
        "pk": f"MERCHANT#{MID}#ORDER#{order_id}",
        "sk": "ORDER",
        "kind": "order",
        "merchant_id": MID,
        "order_id": order_id,
        "order_name": f"#{order_id}",
        "created_at": at,
        "customer_id": customer,
        "logged_in": True,
        "subtotal": sum(a for _p, a in lines),
        "total": sum(a for _p, a in lines),
        "discount_codes": [],
        "lines": [
            {"index": i, "product_id": p, "title": p, "quantity": 1, "amount": a}
            for i, (p, a) in enumerate(lines)
        ],
    }
    return Change(str(n), item["pk"], "order", MID, item)


def _batch(*changes: Change) -> MerchantBatch:
    return MerchantBatch(MID, ZONE, list(changes))


def _day(store: MemoryMetricsStore, day: date = DAY) -> dict[str, int]:
    return rollup_reads.day_counters(MID, day, day, store).get(day, {})


def _snapshot(store: MemoryMetricsStore) -> dict[Key, dict[str, Any]]:
    """The store's items without the records' TTL markers' expiry (a clock reading)."""
    return {k: {a: v for a, v in i.items() if a != "expires_at"} for k, i in store.items.items()}


TRAFFIC = (
    _account(1, "c1", "2026-03-02T08:00:00Z", "c1@example.com"),
    _event(2, "hub_opened", "c1", "2026-03-02T09:00:00Z"),
    _event(3, "hub_opened", "c2", "2026-03-02T09:30:00Z"),
    _event(4, "order_tracked", "c1", "2026-03-02T09:40:00Z"),
    _event(5, "product_clicked", "c1", "2026-03-02T10:00:00Z", product_id="p1"),
    _order(6, "o1", "c1", "2026-03-02T11:00:00Z", [("p1", 1500), ("p2", 700)]),
)


def test_a_batch_rolls_up_to_its_figures() -> None:
    store = MemoryMetricsStore()
    roll_up(store, _batch(*TRAFFIC))
    day = _day(store)
    assert day["new_accounts"] == 1
    assert day["si_order_tracked"] == 1
    assert (day["aov_orders"], day["aov_revenue"]) == (1, 2200)
    assert day["revenue"] == 1500  # only the clicked product's line is attributed
    assert rollup_reads.totals(MID, store) == {"accounts": 1, "next_ordinal": 2}
    assert rollup_reads.active_accounts(MID, [(DAY, DAY)], store=store) == [2]
    account = store.items[(accounts_pk(MID), "c1")]
    assert account["email"] == "c1@example.com"
    assert account["last_opened_at"] == "2026-03-02T09:00:00Z"
    assert account["idle_sk"] == "2026-03-02T09:00:00Z#c1"


def test_a_redelivered_batch_changes_nothing() -> None:
    store = MemoryMetricsStore()
    roll_up(store, _batch(*TRAFFIC))
    before = _snapshot(store)
    roll_up(store, _batch(*TRAFFIC))
    roll_up(store, _batch(*TRAFFIC[2:4]))
    assert _snapshot(store) == before


def test_half_a_batch_redelivered_with_new_records_counts_each_record_once() -> None:
    store = MemoryMetricsStore()
    roll_up(store, _batch(*TRAFFIC[:4]))
    roll_up(store, _batch(*TRAFFIC))
    whole = MemoryMetricsStore()
    roll_up(whole, _batch(*TRAFFIC))
    assert _snapshot(store) == _snapshot(whole)


def test_a_touchpoint_arriving_after_its_order_reattributes_the_order() -> None:
    store = MemoryMetricsStore()
    roll_up(store, _batch(TRAFFIC[5]))
    assert _day(store).get("revenue", 0) == 0
    roll_up(
        store,
        _batch(_event(7, "product_added_to_cart", "c1", "2026-03-02T10:30:00Z", product_id="p2")),
    )
    assert _day(store)["revenue"] == 700
    roll_up(store, _batch(TRAFFIC[4]))
    assert _day(store)["revenue"] == 2200
    stored = store.items[(revenue_pk(MID), "2026-03-02T11:00:00Z#o1")]
    assert [line["touchpoint"] for line in stored["lines"]] == [
        "product_clicked",
        "product_added_to_cart",
    ]


def test_a_touchpoint_older_than_24_hours_attributes_nothing() -> None:
    store = MemoryMetricsStore()
    old = _event(8, "product_clicked", "c1", "2026-03-01T10:59:59Z", product_id="p1")
    roll_up(store, _batch(old, TRAFFIC[5]))
    assert _day(store).get("revenue", 0) == 0
    assert (revenue_pk(MID), "2026-03-02T11:00:00Z#o1") not in store.items


def test_a_visit_never_moves_the_last_visit_back_and_keeps_the_ordinal() -> None:
    store = MemoryMetricsStore()
    roll_up(store, _batch(_event(1, "hub_opened", "c1", "2026-03-03T10:00:00Z")))
    roll_up(store, _batch(_event(2, "hub_opened", "c1", "2026-03-02T10:00:00Z")))
    account = store.items[(accounts_pk(MID), "c1")]
    assert (account["ordinal"], account["last_opened_at"]) == (0, "2026-03-03T10:00:00Z")
    both = (date(2026, 3, 2), date(2026, 3, 3))
    assert rollup_reads.active_accounts(MID, [both, (both[0], both[0])], store=store) == [1, 1]


class StaleAccounts(MemoryMetricsStore):
    """Reads the accounts as they were before another batch stored them (a race)."""

    def get_many(self, keys: Any, *, consistent: bool = False) -> dict[Key, dict[str, Any]]:
        keys = list(keys)
        if all(pk == accounts_pk(MID) for pk, _sk in keys):
            return {}
        return super().get_many(keys, consistent=consistent)


def test_visits_racing_another_batch_keep_one_ordinal_per_account() -> None:
    store = StaleAccounts()
    roll_up(store, _batch(_event(1, "hub_opened", "501", "2026-03-02T10:00:00Z")))
    roll_up(
        store,
        _batch(
            _event(2, "hub_opened", "501", "2026-03-03T10:00:00Z"),
            _event(3, "hub_opened", "502", "2026-03-03T11:00:00Z"),
        ),
    )
    first, second = store.items[(accounts_pk(MID), "501")], store.items[(accounts_pk(MID), "502")]
    assert first["last_opened_at"] == "2026-03-03T10:00:00Z"
    assert first["ordinal"] != second["ordinal"]
    both = (date(2026, 3, 2), date(2026, 3, 3))
    assert rollup_reads.active_accounts(MID, [both, (both[1], both[1])], store=store) == [2, 2]


def test_a_guarded_visit_fails_when_the_account_moved() -> None:
    store = MemoryMetricsStore()
    visit = plan_visit(MID, "c1", ("2026-03-02T10:00:00Z", None), 0, known=False, later=True)
    store.transact([visit])
    with pytest.raises(Cancelled) as cancelled:
        store.transact([visit])  # the account has an ordinal now
    assert cancelled.value.codes == ["ConditionalCheckFailed"]
    assert isinstance(visit, Update) and "email" not in visit.values


def test_counter_chunks_fit_one_transaction_each() -> None:
    opens = [
        _event(n, "help_clicked", f"c{n}", f"2026-0{1 + n % 9}-{1 + n % 28:02d}T10:00:00Z")
        for n in range(400)
    ]
    chunks = list(counter_chunks(_batch(*opens)))
    assert sum(len(c) for c in chunks) == 400
    for chunk in chunks:
        days = {d for _c, deltas in chunk for d in deltas.days}
        assert len(chunk) + len(days) <= 100


def test_a_batch_of_300_records_costs_a_bounded_number_of_requests() -> None:
    """Requests grow with 100-item transactions, not with records (the counts are those the
    DynamoDB adapter makes: tests/integration/test_metrics_store.py holds both to one contract)."""
    store = MemoryMetricsStore()
    changes = [_account(n, f"c{n}", "2026-03-02T08:00:00Z") for n in range(100)]
    changes += [_event(100 + n, "hub_opened", f"c{n}", "2026-03-02T09:00:00Z") for n in range(100)]
    changes += [
        _event(200 + n, "help_clicked", f"c{n}", "2026-03-02T09:00:00Z") for n in range(100)
    ]
    roll_up(store, _batch(*changes))
    requests = +store.requests
    assert _day(store)["si_help_clicked"] == 100
    assert rollup_reads.active_accounts(MID, [(DAY, DAY)], store=store) == [100]
    assert store.items[(totals_pk(MID), TOTALS_SK)]["accounts"] == 100
    # accounts: 1 transaction; visits: 1 read, 1 ordinal reservation, 1 transaction;
    # bitmaps: 1 read, 1 transaction; counters of 200 records: 3 transactions of <= 100 items.
    assert requests == {"TransactWriteItems": 6, "BatchGetItem": 2, "UpdateItem": 1}
    assert len(BitMap.deserialize(next(iter(_bitmaps(store))))) == 100


def _bitmaps(store: MemoryMetricsStore) -> list[bytes]:
    return [i["bitmap"] for (pk, _sk), i in store.items.items() if pk.endswith("#ACTIVE")]


def test_unreadable_stream_records_are_reported_and_the_others_read() -> None:
    good = stream_record(TRAFFIC[1].item, "11")
    broken = stream_record(TRAFFIC[2].item, "12")
    del broken["dynamodb"]["NewImage"]["merchant_id"]
    not_a_record = {"dynamodb": {"SequenceNumber": "13"}}
    ignored = stream_record(TRAFFIC[3].item, "14", event="MODIFY")
    outcome = BatchOutcome()
    changes = read_changes([good, broken, not_a_record, ignored], outcome)
    assert [c.sequence for c in changes] == ["11"]
    assert changes[0].item == TRAFFIC[1].item
    assert outcome.unreadable == {"12", "13"}
