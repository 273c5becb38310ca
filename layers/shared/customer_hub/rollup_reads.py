"""Reads of the roll-ups: day counters, exact active accounts, totals, report and accounts.

Every read is a bounded number of small requests whatever the traffic: one Query for a range
of day items (at most 366 + 366 small items), one BatchGetItem for the active-account blocks
of one or more ranges, one GetItem for the totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pyroaring import BitMap

from customer_hub.config import config
from customer_hub.metrics import block_sk, covering_blocks
from customer_hub.rollups import TOTALS_SK, active_pk, day_pk, totals_pk
from customer_hub.store import Table, key


def _metrics() -> Table:
    return Table(config().metrics_table)


def day_counters(merchant_id: str, first: date, last: date) -> dict[date, dict[str, int]]:
    """Counters per local day in first..last (days without any activity are absent)."""
    found: dict[date, dict[str, int]] = {}
    for item in _metrics().query_all(
        day_pk(merchant_id), sk_between=(first.isoformat(), last.isoformat())
    ):
        counters = {k: int(v) for k, v in item.items() if k not in ("pk", "sk")}
        found[date.fromisoformat(str(item["sk"]))] = counters
    return found


def totals(merchant_id: str) -> dict[str, int]:
    item = _metrics().get(totals_pk(merchant_id), TOTALS_SK) or {}
    return {k: int(v) for k, v in item.items() if k not in ("pk", "sk")}


def active_accounts(merchant_id: str, ranges: Sequence[tuple[date, date]]) -> list[int]:
    """Exact distinct accounts that opened the hub in each range: OR of covering blocks.

    All ranges are answered by one BatchGetItem (a 366-day range needs at most ~16 blocks).
    """
    table = _metrics()
    pk = active_pk(merchant_id)
    wanted = {block_sk(b) for first, last in ranges for b in covering_blocks(first, last)}
    bitmaps: dict[str, BitMap] = {}
    keys = [key(pk, sk) for sk in sorted(wanted)]
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {table.name: {"Keys": keys[start : start + 100]}}
        while request:
            response = table._client.batch_get_item(RequestItems=request)
            for raw in response["Responses"].get(table.name, []):
                bitmaps[raw["sk"]["S"]] = BitMap.deserialize(raw["bitmap"]["B"])
            request = response.get("UnprocessedKeys") or {}
    counts = []
    for first, last in ranges:
        blocks = [
            bitmaps[sk] for b in covering_blocks(first, last) if (sk := block_sk(b)) in bitmaps
        ]
        counts.append(len(BitMap.union(*blocks)) if blocks else 0)
    return counts
