"""Coupons of a shopper (SPEC §3-4): lifecycle, the Coupons page, apply, used by an order.

Lifecycle: `pending` (Smile is issuing it) → `applied` (redeemed or applied in the hub) →
`available` again when the cart window passes without an order using the code → `used` when a
Shopify order uses the code or Smile reports it used. Cancelled, failed and expired coupons
are not offered. The status is derived on read from the stored record and the clock, so the
cart window needs no timer.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

from customer_hub.identity import Customer
from customer_hub.infra import clock
from customer_hub.loyalty import coupon_store
from customer_hub.loyalty.coupon_writes import bind_coupon, save_coupon
from customer_hub.loyalty.keys import email_pk, shopper_pk
from customer_hub.loyalty.models import CouponRecord
from customer_hub.merchants.profiles import Merchant
from customer_hub.metrics import hub_events
from customer_hub.metrics.hub_events import HubEvent
from customer_hub.problems import Conflict, NotFound

CouponStatus = Literal["pending", "applied", "available", "used"]


def coupon_status(
    coupon: CouponRecord, now: datetime, cart_window_hours: int
) -> CouponStatus | None:
    """The coupon's status for the shopper; None when it is not offered at all."""
    if coupon.fulfillment_status in ("cancelled", "failed"):
        return None
    if coupon.usage_status == "used" or coupon.used_in_order_id:
        return "used"
    if coupon.fulfillment_status == "pending" or not coupon.code:
        return "pending"
    if coupon.expires_at and clock.parse_iso(coupon.expires_at) <= now:
        return None
    if coupon.applied_at:
        applied = clock.parse_iso(coupon.applied_at)
        if applied + timedelta(hours=cart_window_hours) > now:
            return "applied"
    return "available"


def coupon_json(coupon: CouponRecord, status: CouponStatus) -> dict[str, Any]:
    """API.md's Coupon."""
    return {
        "id": coupon.fulfillment_id,
        "code": coupon.code,
        "name": coupon.name,
        "status": status,
        "image_url": coupon.image_url,
        "usage_instructions": coupon.usage_instructions,
        "expires_at": coupon.expires_at,
        "applied_at": coupon.applied_at if status == "applied" else None,
    }


def apply_url(shop_domain: str, code: str) -> str:
    """Shopify's discount link: applies the code and lands on the cart."""
    return f"https://{shop_domain}/discount/{quote(code, safe='')}?redirect=/cart"


def coupons_page(
    coupons: list[CouponRecord], now: datetime, cart_window_hours: int
) -> dict[str, list[dict[str, Any]]]:
    """{"applied": [...], "available": [...]} newest first (pending and used are not listed)."""
    page: dict[str, list[dict[str, Any]]] = {"applied": [], "available": []}
    for coupon in sorted(coupons, key=lambda c: c.fulfillment_id, reverse=True):
        status = coupon_status(coupon, now, cart_window_hours)
        if status in ("applied", "available"):
            page[status].append(coupon_json(coupon, status))
    return page


def mark_applied(
    merchant_id: str, email: str, shopify_customer_id: str, coupon: CouponRecord
) -> CouponRecord:
    """Bind the coupon to the shopper and start its cart window now."""
    applied = coupon.model_copy(
        update={
            "applied_at": clock.iso(clock.now()),
            "shopify_customer_id": shopify_customer_id,
        }
    )
    save_coupon(merchant_id, email, applied)
    bind_coupon(merchant_id, email, applied)  # a sync may have stored a newer copy first
    return applied


def mark_used_by_order(merchant_id: str, code: str, order_id: str, ordered_at: str) -> int:
    """Mark every coupon with this code used by the order; returns how many were marked."""
    store = coupon_store.store
    marked = 0
    for ref in store.code_references(merchant_id, code):
        partitions = [email_pk(merchant_id, str(ref["email"]))]
        if ref.get("shopify_customer_id"):
            partitions.append(shopper_pk(merchant_id, str(ref["shopify_customer_id"])))
        fulfillment_id = int(ref["fulfillment_id"])
        marked += sum(
            store.mark_used(pk, fulfillment_id, order_id, ordered_at) for pk in partitions
        )
    return marked


def apply(
    merchant: Merchant, shopper: Customer, owned: list[CouponRecord], coupon_id: str
) -> dict[str, Any]:
    """POST /coupons/{id}/apply: the shopper's own available (or applied) coupon, to the cart."""
    coupon = next((c for c in owned if str(c.fulfillment_id) == coupon_id.strip()), None)
    now = clock.now()
    status = coupon_status(coupon, now, merchant.cart_window_hours) if coupon else None
    if coupon is None or status is None:
        raise NotFound("No such coupon.")
    if status == "used":
        raise Conflict("This coupon has been used already.")
    if status == "pending" or not coupon.code:
        raise Conflict("This coupon is still being issued; try again in a moment.")
    applied = mark_applied(merchant.merchant_id, shopper.email, shopper.shopify_customer_id, coupon)
    if merchant.hub_status != "live":  # SPEC §6.5: no interaction while the hub is not live
        return {
            "coupon": coupon_json(applied, "applied"),
            "apply_url": apply_url(merchant.shop_domain, coupon.code),
        }
    hub_events.record(
        merchant.merchant_id,
        HubEvent(
            event_id=str(uuid.uuid4()),
            type="coupon_applied",
            occurred_at=clock.iso(now),
            customer_id=shopper.shopify_customer_id,
            email=shopper.email,
            coupon_code=coupon.code,
        ),
    )
    return {
        "coupon": coupon_json(applied, "applied"),
        "apply_url": apply_url(merchant.shop_domain, coupon.code),
    }
