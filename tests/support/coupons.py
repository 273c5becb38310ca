"""A coupon record to build tests on (the coupon store contract and the coupon rules)."""

from __future__ import annotations

from typing import Any

from customer_hub.loyalty.models import CouponRecord


def coupon_record(**fields: Any) -> CouponRecord:
    """Fulfillment 7 of Smile customer 70, code `HUB-7`, Smile's `updated_at` 11:00 UTC on
    2026-11-23; `fields` change any of it."""
    return CouponRecord.model_validate(
        {
            "fulfillment_id": 7,
            "smile_customer_id": 70,
            "name": "$5 off",
            "code": "HUB-7",
            "updated_at": "2026-11-23T11:00:00Z",
            **fields,
        }
    )
