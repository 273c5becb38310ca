"""Freshness of a shopper's snapshot: refresh one customer from Smile within a tight budget."""

from __future__ import annotations

from customer_hub.identity import Customer
from customer_hub.merchants import Merchant
from customer_hub.snapshots import CouponRecord, CustomerSnapshot


def refreshed(
    merchant: Merchant,
    shopper: Customer,
    customer: CustomerSnapshot | None,
    coupons: list[CouponRecord],
) -> tuple[CustomerSnapshot | None, list[CouponRecord]]:
    return customer, coupons
