"""Hub interactions as stored in the events table (whose stream feeds the roll-ups).

One item per event, deduplicated by the client's event id:
`MERCHANT#<m>#EVENT#<event id>` / `EVENT` with `kind = "hub_event"`, `merchant_id`, `event_id`,
`type`, `occurred_at` (UTC ISO 8601), `customer_id` (Shopify customer id), `email`, and
`product_id` / `order_id` / `coupon_code` when they apply, `received_at`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from customer_hub.infra import clock
from customer_hub.infra.config import config
from customer_hub.infra.store import Table
from customer_hub.merchants.profiles import merchant_pk

SERVICE_INTERACTIONS = (
    "order_tracked",
    "return_started",
    "coupon_applied",
    "help_clicked",
    "chat_started",
)
TOUCHPOINTS = ("product_clicked", "product_added_to_cart", "buy_again_clicked")
EVENT_TYPES = ("hub_opened", "hub_logged_in", *SERVICE_INTERACTIONS, *TOUCHPOINTS)

EventType = Literal[
    "hub_opened",
    "hub_logged_in",
    "order_tracked",
    "return_started",
    "coupon_applied",
    "help_clicked",
    "chat_started",
    "product_clicked",
    "product_added_to_cart",
    "buy_again_clicked",
]


class HubEvent(BaseModel):
    event_id: str
    type: EventType
    occurred_at: str
    customer_id: str
    email: str | None = None
    product_id: str | None = None
    order_id: str | None = None
    coupon_code: str | None = None


def event_pk(merchant_id: str, event_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#EVENT#{event_id}"


def _item(merchant_id: str, event: HubEvent) -> dict[str, Any]:
    return {
        "pk": event_pk(merchant_id, event.event_id),
        "sk": "EVENT",
        "kind": "hub_event",
        "merchant_id": merchant_id,
        "received_at": clock.iso(clock.now()),
        **event.model_dump(),
    }


def record_write(merchant_id: str, event: HubEvent) -> dict[str, Any]:
    """`record` as a TransactWriteItems operation."""
    from customer_hub.infra.store import serialize

    return {
        "Put": {
            "TableName": Table(config().events_table).name,
            "Item": serialize(_item(merchant_id, event)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def record(merchant_id: str, event: HubEvent) -> bool:
    """Store one event once; False when its id was already recorded (a duplicate)."""
    table = Table(config().events_table)
    return table.put_if(_item(merchant_id, event), "attribute_not_exists(pk)")
