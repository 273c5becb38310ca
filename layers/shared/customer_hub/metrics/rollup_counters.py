"""Roll-up stage: day and total counters, each record counted once by its marker.

The coalesced `ADD`s of a chunk of records and one `APPLIED` marker per record
(`attribute_not_exists`) go in one transaction: all of them land or none; a redelivered record
finds its marker, is dropped from the chunk and the rest is committed again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

from customer_hub.infra import clock
from customer_hub.infra.store import backoff
from customer_hub.metrics.keys import MARKER_SK, TOTALS_SK, day_pk, totals_pk
from customer_hub.metrics.model import (
    CounterDeltas,
    account_counters,
    event_counters,
    order_counters,
)
from customer_hub.metrics.orders import order_from_item
from customer_hub.metrics.store import (
    TRANSACTION_LIMIT,
    Add,
    Cancelled,
    MetricsStore,
    Put,
    Write,
    absent,
)
from customer_hub.metrics.stream import Change, MerchantBatch

MARKER_DAYS = 30
ATTEMPTS = 8
Chunk = list[tuple[Change, CounterDeltas]]


def counter_writes(merchant_id: str, deltas: CounterDeltas) -> list[Write]:
    """One ADD per day item touched (in day order) and one for the totals item."""
    writes: list[Write] = [
        Add(day_pk(merchant_id), day.isoformat(), counters)
        for day, counters in sorted(deltas.days.items())
    ]
    if deltas.totals:
        writes.append(Add(totals_pk(merchant_id), TOTALS_SK, deltas.totals))
    return writes


def deltas_of(change: Change, zone: ZoneInfo) -> CounterDeltas:
    item = change.item
    if change.kind == "hub_event":
        return event_counters(str(item["type"]), str(item["occurred_at"]), zone)
    if change.kind == "order":
        return order_counters(order_from_item(item), zone)
    return account_counters(str(item["created_at"]), zone)


def coalesced(chunk: Iterable[tuple[Change, CounterDeltas]]) -> CounterDeltas:
    total = CounterDeltas()
    for _change, deltas in chunk:
        total.merge(deltas)
    return total


def counter_chunks(batch: MerchantBatch) -> Iterator[Chunk]:
    """The records that count something, in chunks whose markers and coalesced counter items
    fit one transaction."""
    chunk: Chunk = []
    for change in batch.changes:
        deltas = deltas_of(change, batch.zone)
        if not deltas.days and not deltas.totals:
            continue
        if chunk:
            items = len(chunk) + 1 + coalesced([*chunk, (change, deltas)]).item_count
            if items > TRANSACTION_LIMIT:
                yield chunk
                chunk = []
        chunk.append((change, deltas))
    if chunk:
        yield chunk


def plan_commit(merchant_id: str, chunk: Chunk, expires: int) -> list[Write]:
    """The chunk's markers, then its coalesced counter additions."""
    markers: list[Write] = [
        Put(
            c.source_pk,
            MARKER_SK,
            {"pk": c.source_pk, "sk": MARKER_SK, "expires_at": expires},
            (absent(),),
        )
        for c, _d in chunk
    ]
    return markers + counter_writes(merchant_id, coalesced(chunk))


def commit(store: MetricsStore, merchant_id: str, chunk: Chunk) -> None:
    """Markers and the chunk's coalesced counter additions, all or nothing; records already
    counted (their marker exists) are dropped and the rest committed again."""
    expires = int((clock.now() + timedelta(days=MARKER_DAYS)).timestamp())
    for attempt in range(ATTEMPTS):
        if not chunk:
            return
        try:
            store.transact(plan_commit(merchant_id, chunk, expires))
            return
        except Cancelled as cancelled:
            applied = {
                chunk[i][0].source_pk
                for i, code in enumerate(cancelled.codes[: len(chunk)])
                if code == "ConditionalCheckFailed"
            }
            if not applied and not cancelled.codes:
                keys = [(c.source_pk, MARKER_SK) for c, _d in chunk]
                applied = {pk for pk, _sk in store.get_many(keys, consistent=True)}
            if applied:
                chunk = [(c, d) for c, d in chunk if c.source_pk not in applied]
                continue
            backoff(attempt)
    raise RuntimeError("roll-up counters could not be committed")


def count(store: MetricsStore, batch: MerchantBatch) -> None:
    for chunk in counter_chunks(batch):
        commit(store, batch.merchant_id, chunk)
