"""The sync's write of a Smile reward fulfillment into the snapshots (`merge_coupon_from_smile`):
Smile's fields only (`coupon_store.SMILE_COUPON_FIELDS`), never backwards, keeping the fields the
hub owns. Over the `CouponStore` port."""

from __future__ import annotations

from customer_hub.loyalty import coupon_store
from customer_hub.loyalty.coupon_writes import index_coupon_code
from customer_hub.loyalty.keys import email_pk, shopper_pk
from customer_hub.loyalty.models import CouponRecord


def merge_coupon_from_smile(
    merchant_id: str, email: str, coupon: CouponRecord, *, probably_new: bool = False
) -> bool:
    """The sync's write of a reward fulfillment: Smile's fields only, never backwards.

    Unlike `save_coupon`, fields the hub owns (`shopify_customer_id`, `applied_at`,
    `used_in_order_id`) are kept; when the stored coupon names its shopper, the copy in the
    shopper partition is updated too. `probably_new` tries a plain create first (cheaper).
    True when written.
    """
    store = coupon_store.store
    pk = email_pk(merchant_id, email)
    if probably_new and not coupon.shopify_customer_id and store.create(pk, coupon):
        index_coupon_code(merchant_id, email, coupon, None)
        return True
    stored = store.merge_smile_fields(pk, coupon)
    if stored is None:
        return False
    shopper = stored.shopify_customer_id or coupon.shopify_customer_id
    if shopper:
        store.merge_smile_fields(shopper_pk(merchant_id, str(shopper)), coupon)
    index_coupon_code(merchant_id, email, coupon, str(shopper) if shopper else None)
    return True
