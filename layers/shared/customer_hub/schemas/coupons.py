"""Success bodies of the storefront's coupon routes (`GET /coupons`, apply, redeem)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from customer_hub.schemas import ResponseModel, Timestamp


class Coupon(ResponseModel):
    """`pending`: Smile is still issuing it (`code` is null until it is issued)."""

    id: int
    code: str | None
    name: str
    status: Literal["pending", "applied", "available", "used"]
    image_url: str | None
    usage_instructions: str | None
    expires_at: Timestamp | None
    applied_at: Timestamp | None


class CouponLists(ResponseModel):
    applied: list[Coupon]
    available: list[Coupon]


class Coupons(ResponseModel):
    """GET /coupons."""

    available_count: int
    applied: list[Coupon]
    available: list[Coupon]


class Redeemed(ResponseModel):
    """POST /rewards/{points_product_id}/redeem (201)."""

    coupon: Coupon
    points_balance: int
    apply_url: str | None = Field(
        description="Shopify's discount link for the cart; null while the coupon is pending",
        examples=["https://shop.example/discount/CODE?redirect=/cart"],
    )


class AppliedCoupon(ResponseModel):
    """POST /coupons/{coupon_id}/apply."""

    coupon: Coupon
    apply_url: str
