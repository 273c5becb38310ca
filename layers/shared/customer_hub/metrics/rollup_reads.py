"""Reads of the roll-ups: day counters, exact active accounts, totals, report and accounts.

Every read is a bounded number of small requests whatever the traffic: one Query for a range
of day items (at most 366 + 366 small items), one GetItem for the totals, and for the
active-account blocks of one or more ranges one BatchGetItem per 100 block shards: up to
262 144 accounts (one shard) a 366-day range and its comparison need ~34 keys, so the
requests grow with accounts / 2**SHARD_BITS, never with events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pyroaring import BitMap

from customer_hub.metrics.dynamo_store import DynamoMetricsStore
from customer_hub.metrics.keys import TOTALS_SK, active_pk, day_pk, totals_pk
from customer_hub.metrics.model import block_sk, covering_blocks, shard_count
from customer_hub.metrics.store import MetricsStore


def day_counters(
    merchant_id: str, first: date, last: date, store: MetricsStore | None = None
) -> dict[date, dict[str, int]]:
    """Counters per local day in first..last (days without any activity are absent)."""
    found: dict[date, dict[str, int]] = {}
    store = store or DynamoMetricsStore()
    for item in store.query(day_pk(merchant_id), (first.isoformat(), last.isoformat())):
        counters = {k: int(v) for k, v in item.items() if k not in ("pk", "sk")}
        found[date.fromisoformat(str(item["sk"]))] = counters
    return found


def totals(merchant_id: str, store: MetricsStore | None = None) -> dict[str, int]:
    item = (store or DynamoMetricsStore()).get(totals_pk(merchant_id), TOTALS_SK) or {}
    return {k: int(v) for k, v in item.items() if k not in ("pk", "sk")}


def active_accounts(
    merchant_id: str,
    ranges: Sequence[tuple[date, date]],
    next_ordinal: int | None = None,
    store: MetricsStore | None = None,
) -> list[int]:
    """Exact distinct accounts that opened the hub in each range: OR of covering blocks.

    Every shard of every covering block of all ranges, 100 keys per BatchGetItem (a 366-day
    range needs at most ~17 blocks). `next_ordinal` (the totals item's) says how many shards
    exist; it is read when not given.
    """
    store = store or DynamoMetricsStore()
    pk = active_pk(merchant_id)
    if next_ordinal is None:
        next_ordinal = int(totals(merchant_id, store).get("next_ordinal", 0))
    shards = range(shard_count(next_ordinal))
    wanted = {
        block_sk(b, s)
        for first, last in ranges
        for b in covering_blocks(first, last)
        for s in shards
    }
    found = store.get_many([(pk, sk) for sk in sorted(wanted)])
    bitmaps = {sk: BitMap.deserialize(item["bitmap"]) for (_pk, sk), item in found.items()}
    counts = []
    for first, last in ranges:
        blocks = [
            bitmaps[sk]
            for b in covering_blocks(first, last)
            for s in shards
            if (sk := block_sk(b, s)) in bitmaps
        ]
        counts.append(len(BitMap.union(*blocks)) if blocks else 0)
    return counts
