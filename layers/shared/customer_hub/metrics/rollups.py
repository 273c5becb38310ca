"""Roll-ups: a stream batch of the events table applied to the metrics table, exactly once.

Stream delivery is at least once (retries after partial failures, bisection, redelivered
batches). Every effect is therefore one of:

1. **idempotent by construction** — OR-ing ordinals into an active-account bitmap, raising an
   account's `last_opened_at` to a later value, `ordinal = if_not_exists(...)`, putting a
   timeline item under a key derived from the record;
2. **a counter guarded by the record's marker** — see `rollup_counters`;
3. **state-based** — an order's attribution is recomputed from the stored order and
   touch-points and written conditioned on the stored signature — see `rollup_attribution`.

The stages, in order, each planning its writes from the batch and the store
(`customer_hub.metrics.store`, the port) and applying them through it:
`rollup_accounts` (accounts and ordinals) → `rollup_activity` (active-account bitmaps) →
`rollup_timeline` → `rollup_attribution` → `rollup_counters`. The metrics table's layout is
in `customer_hub.metrics.keys`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from customer_hub.merchants.profiles import find_merchant
from customer_hub.metrics.dynamo_store import DynamoMetricsStore
from customer_hub.metrics.rollup_accounts import create_accounts, open_accounts
from customer_hub.metrics.rollup_activity import mark_active
from customer_hub.metrics.rollup_attribution import attribute_revenue
from customer_hub.metrics.rollup_counters import count
from customer_hub.metrics.rollup_timeline import extend_timelines
from customer_hub.metrics.store import MetricsStore
from customer_hub.metrics.stream import BatchOutcome, Change, MerchantBatch, read_changes

log = logging.getLogger(__name__)


def roll_up(store: MetricsStore, batch: MerchantBatch) -> None:
    """One merchant's changes applied, stage by stage; raises when a write fails."""
    create_accounts(store, batch)
    mark_active(store, batch.merchant_id, open_accounts(store, batch))
    extend_timelines(store, batch)
    attribute_revenue(store, batch)
    count(store, batch)


def apply_stream_batch(
    records: list[dict[str, Any]], store: MetricsStore | None = None
) -> BatchOutcome:
    """Apply a batch; raises when a write fails (the event source retries or bisects)."""
    outcome = BatchOutcome()
    by_merchant: dict[str, list[Change]] = defaultdict(list)
    for change in read_changes(records, outcome):
        by_merchant[change.merchant_id].append(change)
    store = store or DynamoMetricsStore()
    for merchant_id, changes in by_merchant.items():
        merchant = find_merchant(merchant_id)
        if merchant is None:
            log.warning("records of an unknown merchant skipped: %d", len(changes))
            continue
        roll_up(store, MerchantBatch(merchant_id, merchant.zone, changes))
        outcome.applied += len(changes)
    return outcome
