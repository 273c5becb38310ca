"""Typed Smile.io objects the hub reads (unknown fields ignored, the ones we use typed).

Program objects (points products, earning rules, VIP tiers, the points label) are the models of
`customer_hub.loyalty.snapshots`, which is also where they are stored; this module adds the objects
that only pass through: customers, reward fulfillments, purchases, settings and list pages.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from customer_hub.loyalty.snapshots import (
    CouponRecord,
    CustomerSnapshot,
    EarningRule,
    PointsLabel,
    PointsProduct,
    SmileModel,
    VipSettings,
    VipStatus,
    VipTier,
)

__all__ = [
    "Customer",
    "EarningRule",
    "Page",
    "PointsLabel",
    "PointsProduct",
    "PointsPurchase",
    "PointsSettings",
    "RewardFulfillment",
    "VipSettings",
    "VipStatus",
    "VipTier",
]


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


class Customer(SmileModel):
    id: int
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    state: Literal["candidate", "member", "disabled"]
    points_balance: int = 0
    referral_url: str | None = None
    date_of_birth: str | None = None
    vip_status: VipStatus | None = None
    created_at: str | None = None
    updated_at: str

    _blanks = field_validator("email", "referral_url", mode="before")(_blank_to_none)

    def snapshot(self, synced_at: str) -> CustomerSnapshot:
        """The stored form (needs an email: customers without one are not matchable)."""
        if not self.email:
            raise ValueError(f"Smile customer {self.id} has no email")
        return CustomerSnapshot(
            smile_customer_id=self.id,
            email=self.email.strip().lower(),
            state=self.state,
            points_balance=self.points_balance,
            referral_url=self.referral_url,
            vip_status=self.vip_status,
            updated_at=self.updated_at,
            synced_at=synced_at,
        )


class RewardFulfillment(SmileModel):
    """A reward issued to a customer — the coupon. `code` is absent while `pending`."""

    id: int
    customer_id: int
    name: str = ""
    code: str | None = None
    fulfillment_status: Literal["pending", "issued", "cancelled", "failed"] = "issued"
    usage_status: Literal["used", "unused", "untracked"] | None = None
    image_url: str | None = None
    usage_instructions: str | None = None
    terms_and_conditions: str | None = None
    action_text: str | None = None
    action_url: str | None = None
    expires_at: str | None = None
    used_at: str | None = None
    created_at: str | None = None
    updated_at: str

    _blanks = field_validator("code", "image_url", mode="before")(_blank_to_none)

    def coupon(self, shopify_customer_id: str | None = None) -> CouponRecord:
        return CouponRecord(
            fulfillment_id=self.id,
            smile_customer_id=self.customer_id,
            shopify_customer_id=shopify_customer_id,
            name=self.name,
            code=self.code,
            fulfillment_status=self.fulfillment_status,
            usage_status=self.usage_status,
            image_url=self.image_url,
            usage_instructions=self.usage_instructions,
            expires_at=self.expires_at,
            used_at=self.used_at,
            updated_at=self.updated_at,
        )


class PointsPurchase(SmileModel):
    id: int
    customer_id: int
    points_product_id: int
    points_spent: int
    reward_fulfillment: RewardFulfillment
    created_at: str | None = None
    updated_at: str | None = None


class PointsSettings(SmileModel):
    points_label: PointsLabel = Field(default_factory=PointsLabel)


class Page[T](BaseModel):
    """One page of a cursor-paginated list; `next_cursor` is None on the last page."""

    items: list[T]
    next_cursor: str | None = None

    @property
    def last(self) -> bool:
        return self.next_cursor is None
