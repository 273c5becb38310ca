"""Shopify webhooks: signature check, `orders/create` and `customers/create` parsing, storage.

Stored in the events table (its stream feeds the roll-ups), each once:
- `MERCHANT#<m>#WEBHOOK#<X-Shopify-Webhook-Id>` / `WEBHOOK` — the delivery receipt (TTL 30 days);
- `MERCHANT#<m>#ORDER#<order id>` / `ORDER` — `kind = "order"`: `merchant_id`, `order_id`,
  `order_name`, `created_at` (UTC), `customer_id`, `email`, `logged_in` (the buyer's account is
  `enabled`), `currency`, `subtotal` / `total` (shop-currency minor units), `discount_codes`,
  `lines` (`index`, `product_id`, `title`, `quantity`, `price`, `discount`, `amount`);
- `MERCHANT#<m>#ACCOUNT#<customer id>` / `ACCOUNT` — `kind = "account_created"`.
Receipt and item are written in one transaction, so a redelivery stores nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, model_validator

from customer_hub import money
from customer_hub.infra import clock
from customer_hub.infra.config import config
from customer_hub.infra.store import Table, is_condition_failed, serialize
from customer_hub.merchants.profiles import merchant_pk
from customer_hub.metrics.model import Order, OrderLine
from customer_hub.metrics.orders import order_item

RECEIPT_DAYS = 30
Outcome = Literal["accepted", "duplicate", "ignored"]


def signature_valid(raw_body: bytes, secret: str, signature: str | None) -> bool:
    """X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(raw body)); compared in constant time."""
    if not signature:
        return False
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode("ascii")
    return hmac.compare_digest(
        expected.encode("ascii"), signature.strip().encode("ascii", "ignore")
    )


class _Shopify(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Amount(_Shopify):
    amount: str
    currency_code: str


class _MoneySet(_Shopify):
    shop_money: _Amount


class _DiscountAllocation(_Shopify):
    amount_set: _MoneySet


class _LineItem(_Shopify):
    product_id: int | str | None = None
    title: str = ""
    quantity: int
    price_set: _MoneySet
    discount_allocations: list[_DiscountAllocation] = []


class _DiscountCode(_Shopify):
    code: str


class _Customer(_Shopify):
    id: int | str
    email: str | None = None
    state: str | None = None


class ShopifyOrder(_Shopify):
    id: int | str
    name: str = ""
    created_at: str
    email: str | None = None
    subtotal_price_set: _MoneySet
    total_price_set: _MoneySet
    discount_codes: list[_DiscountCode] = []
    line_items: list[_LineItem]  # every order has them: a body without is not an order
    customer: _Customer | None = None

    def to_order(self) -> Order:
        currency = self.total_price_set.shop_money.currency_code
        lines = []
        for index, item in enumerate(self.line_items):
            price = money.to_minor(item.price_set.shop_money.amount, currency)
            discount = sum(
                money.to_minor(a.amount_set.shop_money.amount, currency)
                for a in item.discount_allocations
            )
            lines.append(
                OrderLine(
                    index=index,
                    product_id=str(item.product_id) if item.product_id is not None else None,
                    title=item.title,
                    quantity=item.quantity,
                    amount=price * item.quantity - discount,
                )
            )
        customer = self.customer
        return Order(
            order_id=str(self.id),
            name=self.name,
            customer_id=str(customer.id) if customer else None,
            created_at=clock.iso(clock.parse_iso(self.created_at)),
            lines=tuple(lines),
            discount_codes=tuple(code.code for code in self.discount_codes),
            subtotal=money.to_minor(self.subtotal_price_set.shop_money.amount, currency),
            total=money.to_minor(self.total_price_set.shop_money.amount, currency),
            logged_in=bool(customer and customer.state == "enabled"),
        )


# Keys only an order has: a customers/create body with them is an order sent under that topic.
_ORDER_KEYS = ("line_items", "order_number", "financial_status", "total_price_set")


class ShopifyCustomer(_Shopify):
    id: int | str
    email: str | None = None
    created_at: str
    state: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_an_order(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(key in data for key in _ORDER_KEYS):
            raise ValueError("this is an order, not a customer")
        return data


def account_item(merchant_id: str, customer: ShopifyCustomer) -> dict[str, Any]:
    return {
        "pk": f"{merchant_pk(merchant_id)}#ACCOUNT#{customer.id}",
        "sk": "ACCOUNT",
        "kind": "account_created",
        "merchant_id": merchant_id,
        "customer_id": str(customer.id),
        "email": customer.email,
        "created_at": clock.iso(clock.parse_iso(customer.created_at)),
        "received_at": clock.iso(clock.now()),
    }


def store_once(merchant_id: str, webhook_id: str, item: dict[str, Any]) -> Outcome:
    """Write the receipt and the item together; a repeated webhook or object stores nothing."""
    table = Table(config().events_table)
    receipt = {
        "pk": f"{merchant_pk(merchant_id)}#WEBHOOK#{webhook_id}",
        "sk": "WEBHOOK",
        "kind": "webhook_receipt",
        "merchant_id": merchant_id,
        "expires_at": int((clock.now() + timedelta(days=RECEIPT_DAYS)).timestamp()),
    }
    try:
        table.transact_write(
            [
                {
                    "Put": {
                        "TableName": table.name,
                        "Item": serialize(entry),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for entry in (receipt, item)
            ]
        )
    except ClientError as exc:
        if is_condition_failed(exc):
            return "duplicate"
        raise
    return "accepted"


TOPICS = ("orders/create", "customers/create")


def parse(merchant_id: str, topic: str, body: Any) -> dict[str, Any]:
    """The events-table item of a webhook body of one of TOPICS; ValueError when the body does
    not fit its topic (`X-Shopify-Topic` decides what it must be)."""
    if topic == "orders/create":
        parsed = ShopifyOrder.model_validate(body)
        order = parsed.to_order()
        email = parsed.customer.email if parsed.customer else parsed.email
        currency = parsed.total_price_set.shop_money.currency_code
        return order_item(merchant_id, order, currency, email)
    if topic == "customers/create":
        return account_item(merchant_id, ShopifyCustomer.model_validate(body))
    raise ValueError(f"topic {topic!r} is not one the hub reads")


def receive(merchant_id: str, topic: str, webhook_id: str, body: dict[str, Any]) -> Outcome:
    """Parse and store one verified webhook of a live hub."""
    if topic not in TOPICS:
        return "ignored"
    return store_once(merchant_id, webhook_id, parse(merchant_id, topic, body))
