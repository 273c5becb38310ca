"""Success bodies of the loyalty component (`GET /loyalty`) and the Rewards page
(`GET /rewards`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from customer_hub.schemas import Money, ResponseModel, Timestamp
from customer_hub.schemas.coupons import CouponLists

LoyaltyState = Literal["login_required", "excluded", "not_member", "join", "member"]


class PointsLabel(ResponseModel):
    one: str
    other: str


class VipTier(ResponseModel):
    id: int
    name: str
    image_url: str | None


class NextVipTier(VipTier):
    amount_needed: float | None = Field(description="Smile's delta to the next tier")
    metric: Literal["points_earned", "amount_spent"] = Field(
        "points_earned",
        description="what the tier milestones count: points earned or the amount spent (in the "
        "shop currency), from the program's VIP settings",
    )
    milestone: float | None = Field(None, description="the next tier's threshold, in `metric`")
    progress_value: float | None = Field(
        None, description="what the shopper has reached, in `metric`"
    )
    percent: int | None = Field(
        None, ge=0, le=100, description="floor(progress_value / milestone x 100); null if unknown"
    )
    text: str | None = Field(
        None,
        description="what is still needed, with its unit, in the request's language",
        examples=["680 Coins to Gold", "$120 more to Gold"],
    )


class VariableRange(ResponseModel):
    """A variable reward in a preview: the points the shopper can spend on it now and what they
    are worth at both ends."""

    min: int
    max: int
    min_value: Money
    max_value: Money


class RewardPrice(ResponseModel):
    """A reward at the price the shopper would pay now."""

    points_product_id: int
    name: str
    points_price: int


class RewardSummary(RewardPrice):
    """A reward of the preview, at the price the shopper would pay now."""

    exchange_type: Literal["fixed", "variable"] = "fixed"
    variable: VariableRange | None = Field(None, description="null for a fixed reward")


class BestReward(RewardSummary):
    text: str = Field(
        description="in the request's language; a variable reward's text names its value",
        examples=["Redeem 250 Coins for $5 off", "Redeem 300 Coins for Order discount worth $3"],
    )
    value: Money | None = Field(None, description="a variable reward's value at `points_price`")


class NextReward(RewardPrice):
    points_needed: int


class Progress(ResponseModel):
    """Toward the next reward; `percent` is floor(current / target x 100), 0-100."""

    current: int
    target: int | None
    percent: int = Field(ge=0, le=100)


class WayToEarn(ResponseModel):
    id: int
    name: str
    reward_text: str = Field(
        description="in the request's language", examples=["5 Points for every $1 spent"]
    )
    image_url: str | None
    action_text: str | None
    action_url: str | None


class Loyalty(ResponseModel):
    """GET /loyalty. Personal values (balance, tiers, rewards, referral link) only for the
    `join` and `member` states; otherwise `null`, `[]` or `0`."""

    state: LoyaltyState
    points_label: PointsLabel
    points_balance: int | None
    vip_tier: VipTier | None
    next_vip_tier: NextVipTier | None
    best_reward: BestReward | None = Field(
        description="null when nothing is affordable; ranked as docs/reward-ranking.md says"
    )
    next_reward: NextReward | None = Field(description="null when everything is affordable")
    progress: Progress | None
    rewards_preview: list[RewardSummary]
    coupons_available: int
    referral_url: str | None = Field(description="null while the referral program is inactive")
    ways_to_earn: list[WayToEarn]
    synced_at: Timestamp | None
    hub_status: Literal["not_launched", "live", "disabled"] = Field(
        description="the merchant's hub status: the storefront shows the hub only when `live`"
    )


# ------------------------------------------------------------------ the Rewards page
class VariableSpend(ResponseModel):
    """A variable reward: spend `min`..`max` points in multiples of `step`; each step is
    worth `step_value`."""

    min: int
    max: int | None
    step: int
    step_value: Money


class _Reward(ResponseModel):
    points_product_id: int
    name: str
    description: str | None
    image_url: str | None
    exchange_type: Literal["fixed", "variable"]
    exchange_description: str | None


class FixedReward(_Reward):
    exchange_type: Literal["fixed"]
    points_price: int | None


class VariableReward(_Reward):
    exchange_type: Literal["variable"]
    variable: VariableSpend


class LockedFixedReward(FixedReward):
    points_needed: int


class LockedVariableReward(VariableReward):
    points_needed: int


Reward = Annotated[FixedReward | VariableReward, Field(discriminator="exchange_type")]
LockedReward = Annotated[
    LockedFixedReward | LockedVariableReward, Field(discriminator="exchange_type")
]


class Rewards(ResponseModel):
    """GET /rewards."""

    state: LoyaltyState
    points_label: PointsLabel
    points_balance: int | None
    progress: Progress | None
    redeemable: list[Reward]
    locked: list[LockedReward]
    coupons: CouponLists
    referral_url: str | None
    ways_to_earn: list[WayToEarn]
    synced_at: Timestamp | None
