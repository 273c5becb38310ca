"""Roll-up stage: revenue attribution (state-based).

Every order this batch can change — its new orders, and the orders of touched customers placed
within 24 hours after one of the new touch-points — is recomputed from the stored order and
touch-points. The revenue item and the day's `ADD revenue (new - old)` are written in one
transaction conditioned on the stored signature, so recomputing twice changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from customer_hub.infra import clock
from customer_hub.infra.store import backoff
from customer_hub.metrics.keys import customer_pk, revenue_pk
from customer_hub.metrics.model import (
    ATTRIBUTION_WINDOW,
    CounterDeltas,
    Order,
    Touchpoint,
    attribute,
    attribution_signature,
    local_day,
)
from customer_hub.metrics.orders import order_from_item
from customer_hub.metrics.rollup_counters import counter_writes
from customer_hub.metrics.rollup_timeline import feeds_attribution
from customer_hub.metrics.store import (
    TRANSACTION_LIMIT,
    Cancelled,
    Delete,
    MetricsStore,
    Put,
    Write,
    absent,
    equals,
)
from customer_hub.metrics.stream import MerchantBatch

log = logging.getLogger(__name__)

ATTEMPTS = 8
Moved = tuple[list[Write], CounterDeltas]


def revenue_sk(order: Order) -> str:
    return f"{order.created_at}#{order.order_id}"


def _touchpoint(item: dict[str, Any]) -> Touchpoint:
    return Touchpoint(
        event_id=str(item["event_id"]),
        type=str(item["type"]),
        occurred_at=str(item["occurred_at"]),
        product_id=item.get("product_id"),
        coupon_code=item.get("coupon_code"),
    )


def touched_spans(batch: MerchantBatch) -> dict[str, tuple[str, str]]:
    """Per customer, the first and last of the batch's touch-points."""
    spans: dict[str, tuple[str, str]] = {}
    for change in batch.events:
        item = change.item
        if not feeds_attribution(item):
            continue
        customer, at = str(item["customer_id"]), str(item["occurred_at"])
        low, high = spans.get(customer, (at, at))
        spans[customer] = (min(low, at), max(high, at))
    return spans


def orders_to_recompute(store: MetricsStore, batch: MerchantBatch) -> list[Order]:
    orders: dict[tuple[str, str], Order] = {}
    for change in batch.orders:
        order = order_from_item(change.item)
        if order.customer_id:
            orders[(order.customer_id, order.order_id)] = order
    for customer, (low, high) in touched_spans(batch).items():
        until = clock.iso(clock.parse_iso(high) + ATTRIBUTION_WINDOW)
        pk = customer_pk(batch.merchant_id, customer)
        for item in store.query(pk, (f"ORDER#{low}", f"ORDER#{until}~"), consistent=True):
            order = order_from_item(item)
            orders.setdefault((customer, order.order_id), order)
    return list(orders.values())


def touchpoints_before(store: MetricsStore, merchant_id: str, order: Order) -> list[Touchpoint]:
    assert order.customer_id
    since = clock.iso(clock.parse_iso(order.created_at) - ATTRIBUTION_WINDOW)
    pk = customer_pk(merchant_id, order.customer_id)
    between = (f"TP#{since}", f"TP#{order.created_at}")
    return [_touchpoint(i) for i in store.query(pk, between, consistent=True)]


def plan_attribution(
    merchant_id: str,
    zone: ZoneInfo,
    order: Order,
    touchpoints: list[Touchpoint],
    current: dict[str, Any] | None,
) -> Moved | None:
    """The writes that move the stored attribution to the recomputed one (None: same),
    guarded by the stored signature so that a concurrent or repeated change cancels."""
    lines = attribute(order, touchpoints)
    signature = attribution_signature(lines) if lines else None
    old_signature = current.get("signature") if current else None
    if signature == old_signature:
        return None
    total = sum(line.amount for line in lines)
    delta = total - (int(current["total"]) if current else 0)
    day = local_day(order.created_at, zone)
    pk, sk = revenue_pk(merchant_id), revenue_sk(order)
    guard = (equals("signature", old_signature) if current else absent(),)
    write: Write = Delete(pk, sk, guard)
    if lines:
        item = {
            "pk": pk,
            "sk": sk,
            "order_id": order.order_id,
            "order_name": order.name,
            "customer_id": order.customer_id,
            "ordered_at": order.created_at,
            "day": day.isoformat(),
            "total": total,
            "signature": signature,
            "lines": [
                {
                    "product_id": line.product_id,
                    "product_title": line.product_title,
                    "quantity": line.quantity,
                    "amount": line.amount,
                    "touchpoint": line.touchpoint,
                    "touchpoint_at": line.touchpoint_at,
                    "line_index": line.line_index,
                }
                for line in lines
            ],
        }
        write = Put(pk, sk, item, guard)
    deltas = CounterDeltas()
    if delta:
        deltas.add_day(day, "revenue", delta)
    return [write], deltas


def reattribute(
    store: MetricsStore, batch: MerchantBatch, order: Order, current: dict[str, Any] | None
) -> None:
    """One order recomputed and written alone, re-read after each cancellation."""
    mid = batch.merchant_id
    for attempt in range(ATTEMPTS):
        touchpoints = touchpoints_before(store, mid, order)
        moved = plan_attribution(mid, batch.zone, order, touchpoints, current)
        if moved is None:
            return
        writes, deltas = moved
        try:
            store.transact(writes + counter_writes(mid, deltas))
            return
        except Cancelled:
            pass
        backoff(attempt)
        current = store.get(revenue_pk(mid), revenue_sk(order), consistent=True)
    raise RuntimeError(f"attribution of order {order.order_id} kept changing under us")


def attribute_revenue(store: MetricsStore, batch: MerchantBatch) -> None:
    """Usually one transaction for the whole batch; any cancellation (a concurrent writer)
    falls back to order-by-order recomputation from freshly read state."""
    mid = batch.merchant_id
    orders = orders_to_recompute(store, batch)
    if not orders:
        return
    keys = [(revenue_pk(mid), revenue_sk(o)) for o in orders]
    stored = {sk: item for (_pk, sk), item in store.get_many(keys, consistent=True).items()}
    writes: list[Write] = []
    deltas = CounterDeltas()
    for order in orders:
        touchpoints = touchpoints_before(store, mid, order)
        moved = plan_attribution(mid, batch.zone, order, touchpoints, stored.get(revenue_sk(order)))
        if moved:
            writes.extend(moved[0])
            deltas.merge(moved[1])
    if not writes:
        return
    if len(writes) + deltas.item_count <= TRANSACTION_LIMIT:
        try:
            store.transact(writes + counter_writes(mid, deltas))
            return
        except Cancelled:
            log.info("batched attribution cancelled; recomputing order by order")
    for order in orders:
        current = store.get(revenue_pk(mid), revenue_sk(order), consistent=True)
        reattribute(store, batch, order, current)
