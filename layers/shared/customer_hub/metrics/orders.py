"""The order record in the events table: written by the Shopify webhook, read by the roll-ups.

`MERCHANT#<m>#ORDER#<order id>` / `ORDER`, `kind = "order"` (fields: shopify.webhooks).
"""

from __future__ import annotations

from typing import Any

from customer_hub.infra import clock
from customer_hub.merchants.profiles import merchant_pk
from customer_hub.metrics.model import Order, OrderLine


def order_item(merchant_id: str, order: Order, currency: str, email: str | None) -> dict[str, Any]:
    """The events-table item of an order (the contract other consumers read)."""
    return {
        "pk": f"{merchant_pk(merchant_id)}#ORDER#{order.order_id}",
        "sk": "ORDER",
        "kind": "order",
        "merchant_id": merchant_id,
        "order_id": order.order_id,
        "order_name": order.name,
        "created_at": order.created_at,
        "customer_id": order.customer_id,
        "email": email,
        "logged_in": order.logged_in,
        "currency": currency,
        "subtotal": order.subtotal,
        "total": order.total,
        "discount_codes": list(order.discount_codes),
        "lines": [
            {
                "index": line.index,
                "product_id": line.product_id,
                "title": line.title,
                "quantity": line.quantity,
                "amount": line.amount,
            }
            for line in order.lines
        ],
        "received_at": clock.iso(clock.now()),
    }


def order_from_item(item: dict[str, Any]) -> Order:
    return Order(
        order_id=str(item["order_id"]),
        name=str(item.get("order_name") or ""),
        customer_id=str(item["customer_id"]) if item.get("customer_id") else None,
        created_at=str(item["created_at"]),
        lines=tuple(
            OrderLine(
                index=int(line["index"]),
                product_id=str(line["product_id"]) if line.get("product_id") else None,
                title=str(line.get("title") or ""),
                quantity=int(line["quantity"]),
                amount=int(line["amount"]),
            )
            for line in item.get("lines") or []
        ),
        discount_codes=tuple(str(code) for code in item.get("discount_codes") or []),
        subtotal=int(item["subtotal"]),
        total=int(item["total"]),
        logged_in=bool(item.get("logged_in")),
    )
