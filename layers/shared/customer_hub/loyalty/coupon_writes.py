"""The hub's coupon writes (SPEC §3-4) over the `CouponStore` port: a coupon is stored under its
owner's email partition and, once bound to a Shopify shopper, under the shopper's partition too
(so it stays listed when the email changes), and indexed by code so an order using the code can
mark it used. Writes never move a coupon backwards (a copy with an older Smile `updated_at` is
ignored) and keep the hub's own fields. The shopper partition's read is cached per warm
container (`SHOPPER_CACHE_SECONDS`); this container's writes to it drop its entry."""

from __future__ import annotations

from customer_hub.infra.lru import ExpiringLru, Missing
from customer_hub.loyalty import coupon_store
from customer_hub.loyalty.keys import email_pk, shopper_pk
from customer_hub.loyalty.models import CouponRecord


def save_coupon(merchant_id: str, email: str, coupon: CouponRecord) -> bool:
    """Store a coupon under its owner's email partition (and the shopper's, when known).

    A coupon with a code is also indexed by code (`MERCHANT#<m>#CODE#<CODE>` /
    `COUPON#<fulfillment id>` → email, shopper), so an order using the code can mark it used.
    """
    store = coupon_store.store
    written = store.save_if_newer(email_pk(merchant_id, email), coupon)
    if coupon.shopify_customer_id:
        forget_shopper(merchant_id, coupon.shopify_customer_id)
        shopper = store.save_if_newer(shopper_pk(merchant_id, coupon.shopify_customer_id), coupon)
        written = shopper or written
    if written:
        store.index_code(merchant_id, email, coupon, coupon.shopify_customer_id)
    return written


def bind_coupon(merchant_id: str, email: str, coupon: CouponRecord) -> None:
    """Write the hub's own fields (`applied_at`, `shopify_customer_id`) on the email partition's
    copy whatever its `updated_at`: a sync may have stored a newer Smile answer of the same
    fulfillment first, and `save_coupon` then keeps that copy (without the hub's fields)."""
    fields = {
        name: value
        for name in ("applied_at", "shopify_customer_id")
        if (value := getattr(coupon, name)) is not None
    }
    if fields:
        coupon_store.store.bind(email_pk(merchant_id, email), coupon.fulfillment_id, fields)


def index_coupon_code(
    merchant_id: str, email: str, coupon: CouponRecord, shopify_customer_id: str | None
) -> None:
    """Code → where the coupon lives (email and shopper partitions), for orders using it."""
    coupon_store.store.index_code(merchant_id, email, coupon, shopify_customer_id)


# The shopper partition only adds coupons bound to the shopper under an earlier email (the
# current email's partition, read on every view, holds the Smile customer and every coupon
# redeemed or issued under it): it is cached per warm container for a bounded age, so a warm
# view is one Query. Bounded in size too (least recently used shoppers dropped first).
SHOPPER_CACHE_SECONDS = 60
SHOPPER_CACHE_SIZE = 4096
_shopper_cache: ExpiringLru[tuple[str, str], list[CouponRecord]] = ExpiringLru(SHOPPER_CACHE_SIZE)


def shopper_coupons(merchant_id: str, shopify_customer_id: str) -> list[CouponRecord]:
    """The coupons bound to the shopper (cached for `SHOPPER_CACHE_SECONDS`)."""
    wanted = (merchant_id, shopify_customer_id)
    cached = _shopper_cache.get(wanted)
    if not isinstance(cached, Missing):
        return cached
    coupons = coupon_store.store.partition(shopper_pk(merchant_id, shopify_customer_id))
    _shopper_cache.put(wanted, coupons, SHOPPER_CACHE_SECONDS)
    return coupons


def forget_shoppers() -> None:
    _shopper_cache.clear()


def forget_shopper(merchant_id: str, shopify_customer_id: str) -> None:
    """This container wrote to the shopper partition: its next read must see the write."""
    _shopper_cache.pop((merchant_id, shopify_customer_id))
