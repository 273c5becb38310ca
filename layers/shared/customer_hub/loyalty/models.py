"""The Smile program and coupon models the hub keeps (`Program` and its parts, `VipStatus`,
`CouponRecord`): what the sync stores in snapshots (`customer_hub.loyalty.snapshots`) and the
loyalty view reads. Unknown fields Smile adds are ignored."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SmileModel(BaseModel):
    """Smile objects: unknown fields ignored, the ones we use typed."""

    model_config = ConfigDict(extra="ignore")


class PointsLabel(SmileModel):
    one: str = "Point"
    other: str = "Points"

    def of(self, count: int) -> str:
        return self.one if count == 1 else self.other


class Reward(SmileModel):
    id: int | None = None
    name: str
    description: str | None = None
    image_url: str | None = None


class PointsProduct(SmileModel):
    id: int
    exchange_type: Literal["fixed", "variable"]
    exchange_description: str | None = None
    points_price: int | None = None
    variable_points_step: int | None = None
    variable_points_step_reward_value: float | None = None
    variable_points_min: int | None = None
    variable_points_max: int | None = None
    reward: Reward


class FixedValue(SmileModel):
    value: float


class VariableValue(SmileModel):
    value: float
    per_amount: float = 1


class RewardValue(SmileModel):
    type: Literal["fixed", "variable"]
    fixed: FixedValue | None = None
    variable: VariableValue | None = None


class EarningRule(SmileModel):
    id: int
    name: str
    image_url: str | None = None
    action_text: str | None = None
    action_url: str | None = None
    restricted_to_vip_tier_ids: list[int] | None = None
    reward_value: RewardValue | None = None


class VipTier(SmileModel):
    id: int
    name: str
    image_url: str | None = None
    milestone: float | None = None


class VipSettings(SmileModel):
    """How customers move up VIP tiers: a tier's `milestone` is points earned or an amount
    spent (Smile Admin's "A customer enters a VIP tier based on their ..." setting)."""

    milestone_type: Literal["points_earned", "amount_spent"] | None = None


class Program(SmileModel):
    points_label: PointsLabel = Field(default_factory=PointsLabel)
    points_products: list[PointsProduct] = Field(default_factory=list)
    earning_rules: list[EarningRule] = Field(default_factory=list)
    vip_tiers: list[VipTier] = Field(default_factory=list)
    referral_settings: dict[str, Any] | None = None
    vip_settings: VipSettings | None = None
    synced_at: str | None = None

    @property
    def referral_active(self) -> bool:
        """False when Smile says the referral program is not active (a referral link would lead
        nowhere); True when it is, or when Smile gave no referral settings."""
        if not self.referral_settings:
            return True
        return str(self.referral_settings.get("status", "active")).lower() == "active"


class VipStatus(SmileModel):
    vip_tier_id: int | None = None
    next_vip_tier_id: int | None = None
    progress_value: float | None = None
    delta_to_next_vip_tier: float | None = None
    vip_tier_expires_at: str | None = None


class CouponRecord(SmileModel):
    """A Smile reward fulfillment as the hub tracks it."""

    fulfillment_id: int
    smile_customer_id: int
    shopify_customer_id: str | None = None
    name: str
    code: str | None = None
    fulfillment_status: Literal["pending", "issued", "cancelled", "failed"] = "issued"
    usage_status: Literal["used", "unused", "untracked"] | None = None
    image_url: str | None = None
    usage_instructions: str | None = None
    expires_at: str | None = None
    used_at: str | None = None
    applied_at: str | None = None
    used_in_order_id: str | None = None
    updated_at: str
