"""Where the loyalty snapshots live in the data table (every key scoped to one merchant):
the partitions of an email, of a Shopify shopper and of a coupon code, and the fixed sort keys.
The layout itself is described in `customer_hub.loyalty.snapshots`."""

from __future__ import annotations

from customer_hub.merchants.profiles import merchant_pk

PROGRAM_SK = "PROGRAM"
# A lookup of the email in Smile that found no customer (`customer_hub.smile.freshness`): stored in
# the email partition, so the next views (any container) read it with the snapshot.
LOOKUP_SK = "LOOKUP"
COUPON_PREFIX = "COUPON#"


def email_pk(merchant_id: str, email: str) -> str:
    return f"{merchant_pk(merchant_id)}#EMAIL#{email.strip().lower()}"


def shopper_pk(merchant_id: str, shopify_customer_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#SHOPPER#{shopify_customer_id}"


def code_pk(merchant_id: str, code: str) -> str:
    """The lookup partition of a coupon code (Shopify discount codes are case-insensitive)."""
    return f"{merchant_pk(merchant_id)}#CODE#{code.strip().upper()}"


def coupon_sk(fulfillment_id: int) -> str:
    return f"{COUPON_PREFIX}{fulfillment_id}"
