"""Roll-up stage: each customer's timeline of touch-points and orders (attribution reads it).

Idempotent by construction: a touch-point is put under a key derived from its event, an order
is put once (`attribute_not_exists`: an order never changes).
"""

from __future__ import annotations

import contextlib
from typing import Any

from customer_hub.metrics.hub_events import TOUCHPOINTS
from customer_hub.metrics.keys import customer_pk
from customer_hub.metrics.store import ConditionFailed, MetricsStore, Put, absent
from customer_hub.metrics.stream import MerchantBatch


def feeds_attribution(item: dict[str, Any]) -> bool:
    return bool(
        item.get("customer_id")
        and (
            (item["type"] in TOUCHPOINTS and item.get("product_id"))
            or (item["type"] == "coupon_applied" and item.get("coupon_code"))
        )
    )


def plan_touchpoints(batch: MerchantBatch) -> list[dict[str, Any]]:
    return [
        {
            "pk": customer_pk(batch.merchant_id, str(item["customer_id"])),
            "sk": f"TP#{item['occurred_at']}#{item['event_id']}",
            "event_id": item["event_id"],
            "type": item["type"],
            "occurred_at": item["occurred_at"],
            "product_id": item.get("product_id"),
            "coupon_code": item.get("coupon_code"),
        }
        for item in (change.item for change in batch.events)
        if feeds_attribution(item)
    ]


def plan_orders(batch: MerchantBatch) -> list[Put]:
    puts = []
    for change in batch.orders:
        item = change.item
        if not item.get("customer_id"):
            continue
        pk = customer_pk(batch.merchant_id, str(item["customer_id"]))
        sk = f"ORDER#{item['created_at']}#{item['order_id']}"
        entry = {k: v for k, v in item.items() if k not in ("pk", "sk", "kind")}
        puts.append(Put(pk, sk, entry | {"pk": pk, "sk": sk}, (absent(),)))
    return puts


def extend_timelines(store: MetricsStore, batch: MerchantBatch) -> None:
    store.put_all(plan_touchpoints(batch))
    for put in plan_orders(batch):
        with contextlib.suppress(ConditionFailed):  # stored by an earlier delivery
            store.write(put)
