"""The metrics store in memory: a fake for unit tests, held to the DynamoDB adapter's contract
(tests/integration/test_metrics_store.py runs one suite against both).

It also counts the requests the DynamoDB adapter would make (`requests`), so planning tests
can assert costs without moto.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from customer_hub.metrics.store import (
    Add,
    Cancelled,
    Condition,
    ConditionFailed,
    Delete,
    Item,
    Key,
    Put,
    Write,
)

BATCH_GET_KEYS = 100
BATCH_WRITE_ITEMS = 25


def _holds(condition: Condition, item: Item | None) -> bool:
    value = (item or {}).get(condition.attribute)
    if condition.test == "absent":
        return value is None
    if condition.test == "equals":
        return value is not None and value == condition.value
    return value is None or value < condition.value


def _plain(item: Mapping[str, Any]) -> Item:
    return {k: copy.deepcopy(v) for k, v in item.items() if v is not None}


class MemoryMetricsStore:
    """Items by (pk, sk); a failing write changes nothing."""

    def __init__(self) -> None:
        self.items: dict[Key, Item] = {}
        self.requests: Counter[str] = Counter()

    # -------------------------------------------------------------- reads
    def get(self, pk: str, sk: str, *, consistent: bool = False) -> Item | None:
        self.requests["GetItem"] += 1
        item = self.items.get((pk, sk))
        return copy.deepcopy(item) if item else None

    def get_many(self, keys: Iterable[Key], *, consistent: bool = False) -> dict[Key, Item]:
        wanted = list(dict.fromkeys(keys))
        self.requests["BatchGetItem"] += -(-len(wanted) // BATCH_GET_KEYS)
        return {k: copy.deepcopy(self.items[k]) for k in wanted if k in self.items}

    def _range(self, pk: str, between: tuple[str, str], sort: str = "sk") -> list[Item]:
        low, high = between
        found = [
            i
            for (p, _s), i in self.items.items()
            if p == pk and sort in i and low <= str(i[sort]) <= high
        ]
        return sorted(found, key=lambda i: str(i[sort]))

    def query(
        self, pk: str, between: tuple[str, str], *, consistent: bool = False
    ) -> Iterator[Item]:
        self.requests["Query"] += 1
        return iter(copy.deepcopy(self._range(pk, between)))

    def _page(
        self, found: list[Item], sort: str, limit: int, after: str | None, newest_first: bool
    ) -> tuple[list[Item], str | None]:
        self.requests["Query"] += 1
        if newest_first:
            found.reverse()
        if after is not None:
            found = [
                i for i in found if (str(i[sort]) < after if newest_first else str(i[sort]) > after)
            ]
        page = copy.deepcopy(found[:limit])
        return page, (str(page[-1][sort]) if len(found) > limit else None)

    def page(
        self,
        pk: str,
        between: tuple[str, str],
        *,
        limit: int,
        after: str | None,
        newest_first: bool,
    ) -> tuple[list[Item], str | None]:
        return self._page(self._range(pk, between), "sk", limit, after, newest_first)

    def idle_page(
        self, pk: str, between: tuple[str, str], *, limit: int, after: str | None
    ) -> tuple[list[Item], str | None]:
        return self._page(self._range(pk, between, "idle_sk"), "idle_sk", limit, after, False)

    # -------------------------------------------------------------- writes
    def _check(self, write: Write) -> bool:
        current = self.items.get((write.pk, write.sk))
        return all(_holds(c, current) for c in write.guard)

    def _apply(self, write: Write) -> Item:
        where = (write.pk, write.sk)
        if isinstance(write, Put):
            self.items[where] = _plain(write.item)
            return {}
        if isinstance(write, Delete):
            self.items.pop(where, None)
            return {}
        item = self.items.setdefault(where, {"pk": write.pk, "sk": write.sk})
        if isinstance(write, Add):
            for name, amount in write.counters.items():
                item[name] = int(item.get(name, 0)) + amount
        else:
            item.update(_plain(write.values))
            for name, default in write.defaults.items():
                if item.get(name) is None and default is not None:
                    item[name] = copy.deepcopy(default)
        return copy.deepcopy(item)

    def transact(self, writes: Sequence[Write]) -> None:
        self.requests["TransactWriteItems"] += 1
        keys = [(w.pk, w.sk) for w in writes]
        if len(set(keys)) != len(keys):
            raise ValueError("a transaction writes one item at most once")
        codes = ["None" if self._check(w) else "ConditionalCheckFailed" for w in writes]
        if any(code != "None" for code in codes):
            raise Cancelled(codes)
        for write in writes:
            self._apply(write)

    def write(self, write: Write) -> Item:
        self.requests[{Put: "PutItem", Delete: "DeleteItem"}.get(type(write), "UpdateItem")] += 1
        if not self._check(write):
            raise ConditionFailed(f"{write.pk} / {write.sk}")
        return self._apply(write)

    def put_all(self, items: Iterable[Mapping[str, Any]]) -> None:
        unique = {(str(i["pk"]), str(i["sk"])): i for i in items}
        self.requests["BatchWriteItem"] += -(-len(unique) // BATCH_WRITE_ITEMS)
        for where, item in unique.items():
            self.items[where] = _plain(item)
