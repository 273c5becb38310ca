"""The metrics store port: what the roll-up stages write and the dashboard reads.

Writes are planned as plain values (`Put`, `Delete`, `Add`, `Update`, each optionally guarded
by `Condition`s that must all hold) and applied by one writer: `MetricsStore.transact` (all or
nothing), `MetricsStore.write` (one) or `MetricsStore.put_all` (unguarded, batched). Two
implementations share one contract suite (tests/integration/test_metrics_store.py):
`customer_hub.metrics.dynamo_store.DynamoMetricsStore` (the metrics table) and
`customer_hub.metrics.memory_store.MemoryMetricsStore` (an in-memory fake for unit tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Key = tuple[str, str]
Item = dict[str, Any]
TRANSACTION_LIMIT = 100  # TransactWriteItems carries at most 100 items …
TRANSACTION_BYTES = 3_500_000  # … and 4 MB: chunks of bitmaps stay under ~3.5 MB


@dataclass(frozen=True)
class Condition:
    """`absent`: the attribute does not exist (on `pk`: the item does not exist); `equals`: it
    equals `value`; `absent_or_below`: it does not exist or is less than `value`."""

    attribute: str
    test: Literal["absent", "equals", "absent_or_below"]
    value: Any = None


def absent(attribute: str = "pk") -> Condition:
    return Condition(attribute, "absent")


def equals(attribute: str, value: Any) -> Condition:
    return Condition(attribute, "equals", value)


def absent_or_below(attribute: str, value: Any) -> Condition:
    return Condition(attribute, "absent_or_below", value)


@dataclass(frozen=True)
class Put:
    """Replace the item (attributes whose value is None are left out)."""

    pk: str
    sk: str
    item: Mapping[str, Any]
    guard: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Delete:
    pk: str
    sk: str
    guard: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Add:
    """Add to numeric attributes (a missing one counts from 0; the item is created)."""

    pk: str
    sk: str
    counters: Mapping[str, int]
    guard: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Update:
    """Set attributes (`values`) and set others only where missing (`defaults`)."""

    pk: str
    sk: str
    values: Mapping[str, Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    guard: tuple[Condition, ...] = ()


Write = Put | Delete | Add | Update


class Cancelled(Exception):
    """A transaction was cancelled; `codes` has one reason per write when they are known
    (`ConditionalCheckFailed`, `None`, `TransactionConflict`, …), else is empty."""

    def __init__(self, codes: Sequence[str] = ()) -> None:
        super().__init__(f"transaction cancelled: {list(codes)}")
        self.codes = list(codes)


class ConditionFailed(Exception):
    """A single guarded write found its condition false; nothing was written."""


class MetricsStore(Protocol):
    """Strongly consistent reads where `consistent`; items are plain Python values (money in
    integer minor units, bitmaps as bytes)."""

    def get(self, pk: str, sk: str, *, consistent: bool = False) -> Item | None: ...

    def get_many(self, keys: Iterable[Key], *, consistent: bool = False) -> dict[Key, Item]: ...

    def query(
        self, pk: str, between: tuple[str, str], *, consistent: bool = False
    ) -> Iterator[Item]:
        """Every item of `pk` whose sort key is in the inclusive range, in sort-key order."""
        ...

    def page(
        self,
        pk: str,
        between: tuple[str, str],
        *,
        limit: int,
        after: str | None,
        newest_first: bool,
    ) -> tuple[list[Item], str | None]:
        """One page of `query`, continuing after sort key `after`; → items, the sort key to
        continue after (None: no more)."""
        ...

    def idle_page(
        self, pk: str, between: tuple[str, str], *, limit: int, after: str | None
    ) -> tuple[list[Item], str | None]:
        """`page` over the idle index (`idle_sk` of the accounts items), oldest first."""
        ...

    def transact(self, writes: Sequence[Write]) -> None:
        """All writes or none; raises `Cancelled`."""
        ...

    def write(self, write: Write) -> Item:
        """One write; → the item's attributes after it. Raises `ConditionFailed`."""
        ...

    def put_all(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Unguarded puts, batched."""
        ...
