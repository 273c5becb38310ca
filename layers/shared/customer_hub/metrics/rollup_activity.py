"""Roll-up stage: active-account bitmaps.

The batch's active ordinals are OR-ed into every block shard of their days (idempotent: a
redelivery finds every bit already set and writes nothing). One read per 100 shards and one
transaction per 100 shards or ~3.5 MB of bitmaps, each shard guarded by its version
(optimistic lock): when another writer moved a shard, the shards are read and OR-ed again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from pyroaring import BitMap

from customer_hub.infra.store import backoff
from customer_hub.metrics.keys import active_pk
from customer_hub.metrics.model import block_sk, blocks_of_day, shard_of
from customer_hub.metrics.store import (
    TRANSACTION_BYTES,
    TRANSACTION_LIMIT,
    Cancelled,
    MetricsStore,
    Put,
    absent,
    equals,
)

ATTEMPTS = 8


def additions_of(active: dict[date, set[int]]) -> dict[str, BitMap]:
    """The bits to set per block shard (sort key) for the ordinals active on each day."""
    additions: dict[str, BitMap] = defaultdict(BitMap)
    for day, ordinals in active.items():
        by_shard: dict[int, list[int]] = defaultdict(list)
        for ordinal in ordinals:
            by_shard[shard_of(ordinal)].append(ordinal)
        for block in blocks_of_day(day):
            for shard, members in by_shard.items():
                additions[block_sk(block, shard)] |= BitMap(members)
    return dict(additions)


def bitmap_put(pk: str, sk: str, bitmap: BitMap, current: dict[str, Any] | None) -> Put:
    version = int(current["version"]) if current else 0
    item = {
        "pk": pk,
        "sk": sk,
        "bitmap": bitmap.serialize(),
        "count": len(bitmap),
        "version": version + 1,
    }
    return Put(pk, sk, item, (equals("version", version) if current else absent(),))


def plan_bitmaps(
    pk: str, additions: dict[str, BitMap], stored: dict[str, dict[str, Any]]
) -> list[Put]:
    """The shards whose stored bitmap lacks some of the additions, OR-ed."""
    puts = []
    for sk in sorted(additions):
        current = stored.get(sk)
        bitmap = BitMap.deserialize(current["bitmap"]) if current else BitMap()
        if additions[sk] - bitmap:
            puts.append(bitmap_put(pk, sk, bitmap | additions[sk], current))
    return puts


def size_chunks(puts: list[Put]) -> Iterable[list[Put]]:
    """Bitmap puts in transactions of at most 100 items and ~3.5 MB."""
    chunk: list[Put] = []
    size = 0
    for put in puts:
        item_size = len(put.item["bitmap"]) + 200
        if chunk and (len(chunk) == TRANSACTION_LIMIT or size + item_size > TRANSACTION_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(put)
        size += item_size
    if chunk:
        yield chunk


def mark_active(store: MetricsStore, merchant_id: str, active: dict[date, set[int]]) -> None:
    additions = additions_of(active)
    pk = active_pk(merchant_id)
    for attempt in range(ATTEMPTS):
        if not additions:
            return
        found = store.get_many([(pk, sk) for sk in sorted(additions)], consistent=True)
        stored = {sk: item for (_pk, sk), item in found.items()}
        conflicted = False
        for chunk in size_chunks(plan_bitmaps(pk, additions, stored)):
            try:
                store.transact(chunk)
            except Cancelled:
                conflicted = True
        if not conflicted:
            return
        backoff(attempt)  # another writer moved a shard: re-read the shards and OR again
    raise RuntimeError("active-account bitmaps kept changing under us")
