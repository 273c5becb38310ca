"""One contract for the metrics store port, run against the DynamoDB adapter (moto, the
metrics table) and the in-memory fake the unit tests use: whatever the roll-up stages and
the dashboard reads rely on behaves the same in both."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from customer_hub.metrics.dynamo_store import DynamoMetricsStore
from customer_hub.metrics.memory_store import MemoryMetricsStore
from customer_hub.metrics.store import (
    Add,
    Cancelled,
    ConditionFailed,
    Delete,
    MetricsStore,
    Put,
    Update,
    absent,
    absent_or_below,
    equals,
)
from hubdev.stack import LocalStack


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[MetricsStore]:
    if request.param == "memory":
        yield MemoryMetricsStore()
    else:
        request.getfixturevalue("stack")
        yield DynamoMetricsStore()


@pytest.fixture
def pk() -> str:
    """A partition of its own for each test (the moto table is shared)."""
    return f"MERCHANT#contract-{uuid.uuid4().hex[:12]}#DAY"


def test_an_item_reads_back_as_plain_values(store: MetricsStore, pk: str) -> None:
    item = {"pk": pk, "sk": "a", "n": 7, "f": 0.5, "s": "x", "b": b"\x00\x01", "gone": None}
    item |= {"lines": [{"amount": 120, "title": "T"}], "flag": True}
    store.put_all([item])
    got = store.get(pk, "a", consistent=True)
    assert got == {k: v for k, v in item.items() if k != "gone"}
    assert type(got["n"]) is int and type(got["b"]) is bytes  # type: ignore[index]
    assert store.get(pk, "missing") is None


def test_get_many_returns_the_found_items_by_key(store: MetricsStore, pk: str) -> None:
    store.put_all([{"pk": pk, "sk": f"{n:03d}", "n": n} for n in range(130)])
    keys = [(pk, f"{n:03d}") for n in range(0, 140, 2)] + [(pk, "000")]
    found = store.get_many(keys, consistent=True)
    assert sorted(found) == [(pk, f"{n:03d}") for n in range(0, 130, 2)]
    assert found[(pk, "064")]["n"] == 64


def test_put_all_keeps_the_last_item_given_for_a_key(store: MetricsStore, pk: str) -> None:
    store.put_all([{"pk": pk, "sk": "a", "n": 1}, {"pk": pk, "sk": "a", "n": 2}])
    assert store.get(pk, "a", consistent=True) == {"pk": pk, "sk": "a", "n": 2}


def test_a_query_is_an_inclusive_sort_key_range_in_order(store: MetricsStore, pk: str) -> None:
    store.put_all([{"pk": pk, "sk": f"2026-03-{d:02d}", "d": d} for d in (5, 1, 3, 4, 2)])
    got = list(store.query(pk, ("2026-03-02", "2026-03-04"), consistent=True))
    assert [i["d"] for i in got] == [2, 3, 4]
    assert list(store.query(pk + "-other", ("0", "9"))) == []


def test_pages_newest_first_continue_after_the_last_key(store: MetricsStore, pk: str) -> None:
    store.put_all([{"pk": pk, "sk": f"T{n:02d}", "n": n} for n in range(7)])
    seen: list[int] = []
    after = None
    for _ in range(10):
        items, after = store.page(pk, ("T01", "T05~"), limit=2, after=after, newest_first=True)
        seen += [i["n"] for i in items]
        if after is None:
            break
    assert seen == [5, 4, 3, 2, 1]


def test_idle_pages_follow_the_idle_sort_key(store: MetricsStore, stack: LocalStack) -> None:
    pk = f"MERCHANT#contract-{uuid.uuid4().hex[:12]}#ACCOUNT"
    visits = {"c1": "2026-03-03", "c2": "-", "c3": "2026-03-01", "c4": "2026-03-09"}
    store.put_all([{"pk": pk, "sk": c, "idle_sk": f"{at}#{c}"} for c, at in visits.items()])
    store.put_all([{"pk": pk, "sk": "c5"}])  # never in the index
    seen: list[str] = []
    after = None
    for _ in range(10):
        items, after = store.idle_page(pk, ("-", "2026-03-05"), limit=1, after=after)
        seen += [str(i["sk"]) for i in items]
        if after is None:
            break
    assert seen == ["c2", "c3", "c1"]


def test_add_counts_from_zero_and_returns_the_new_values(store: MetricsStore, pk: str) -> None:
    assert store.write(Add(pk, "t", {"a": 2, "b": 1}))["a"] == 2
    after = store.write(Add(pk, "t", {"a": 3}))
    assert (after["a"], after["b"]) == (5, 1)


def test_an_update_sets_values_and_defaults_only_where_missing(
    store: MetricsStore, pk: str
) -> None:
    store.write(Update(pk, "u", {"x": 1}, {"first": "a", "kept": 1}))
    after = store.write(Update(pk, "u", {"x": 2}, {"first": "b", "new": 3}))
    assert {k: after[k] for k in ("x", "first", "kept", "new")} == {
        "x": 2,
        "first": "a",
        "kept": 1,
        "new": 3,
    }


def test_guards_decide_single_writes(store: MetricsStore, pk: str) -> None:
    store.write(Put(pk, "g", {"pk": pk, "sk": "g", "v": 1, "at": "2026-03-02"}, (absent(),)))
    with pytest.raises(ConditionFailed):
        store.write(Put(pk, "g", {"pk": pk, "sk": "g", "v": 9}, (absent(),)))
    with pytest.raises(ConditionFailed):
        store.write(Update(pk, "g", {"v": 9}, guard=(equals("v", 2),)))
    with pytest.raises(ConditionFailed):
        store.write(Update(pk, "g", {"v": 9}, guard=(absent_or_below("at", "2026-03-01"),)))
    with pytest.raises(ConditionFailed):
        store.write(Update(pk, "g", {"v": 9}, guard=(absent("v"),)))
    assert store.get(pk, "g", consistent=True) == {"pk": pk, "sk": "g", "v": 1, "at": "2026-03-02"}
    store.write(
        Update(pk, "g", {"v": 2}, guard=(equals("v", 1), absent_or_below("at", "2026-03-03")))
    )
    store.write(Update(pk, "g", {"w": 1}, guard=(absent_or_below("none", "z"), absent("w"))))
    store.write(Delete(pk, "g", (equals("v", 2),)))
    assert store.get(pk, "g", consistent=True) is None


def test_a_transaction_lands_whole_or_not_at_all(store: MetricsStore, pk: str) -> None:
    store.transact(
        [Put(pk, "a", {"pk": pk, "sk": "a", "v": 1}, (absent(),)), Add(pk, "n", {"c": 1})]
    )
    with pytest.raises(Cancelled) as cancelled:
        store.transact(
            [Add(pk, "n", {"c": 1}), Put(pk, "a", {"pk": pk, "sk": "a", "v": 2}, (absent(),))]
        )
    codes = cancelled.value.codes
    assert codes in ([], ["None", "ConditionalCheckFailed"])
    assert store.get(pk, "n", consistent=True) == {"pk": pk, "sk": "n", "c": 1}
    assert store.get(pk, "a", consistent=True) == {"pk": pk, "sk": "a", "v": 1}
    store.transact([Add(pk, "n", {"c": 1}), Delete(pk, "a", (equals("v", 1),))])
    assert store.get(pk, "n", consistent=True) == {"pk": pk, "sk": "n", "c": 2}
    assert store.get(pk, "a", consistent=True) is None
