"""What a shopper can earn (SPEC §3): the ways to earn open to their VIP tier with their texts,
and their progress toward the next VIP tier. Pure functions over the program snapshot, no I/O;
`customer_hub.loyalty.view` puts them into `GET /loyalty` and `GET /rewards`."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from customer_hub.loyalty import texts
from customer_hub.loyalty.models import EarningRule, PointsLabel, Program, VipStatus
from customer_hub.loyalty.texts import Language


# ------------------------------------------------------------------ ways to earn
def _count(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def earning_text(
    rule: EarningRule, label: PointsLabel, currency: str, language: Language = "en"
) -> str:
    """ "100 Points" (fixed) or "5 Points for every $1 spent" (variable), in `language`."""
    reward_value = rule.reward_value
    if reward_value is None:
        return rule.name
    if reward_value.type == "variable" and reward_value.variable is not None:
        earned = texts.points(language, _count(reward_value.variable.value), label)
        per = texts.money(language, reward_value.variable.per_amount, currency)
        return texts.message(language, "earn_per_amount", points=earned, amount=per)
    if reward_value.fixed is not None:
        return texts.points(language, _count(reward_value.fixed.value), label)
    return rule.name


def ways_to_earn(
    program: Program, currency: str, vip_tier_id: int | None, language: Language = "en"
) -> list[dict[str, Any]]:
    """The enabled earning rules open to this shopper's tier, with their texts."""
    ways = []
    for rule in program.earning_rules:
        restricted = rule.restricted_to_vip_tier_ids
        if restricted and vip_tier_id not in restricted:
            continue
        ways.append(
            {
                "id": rule.id,
                "name": rule.name,
                "reward_text": earning_text(rule, program.points_label, currency, language),
                "image_url": rule.image_url,
                "action_text": rule.action_text,
                "action_url": rule.action_url,
            }
        )
    return ways


# ------------------------------------------------------------------ VIP progress
def vip_progress(
    program: Program,
    vip: VipStatus,
    currency: str,
    language: Language,
) -> dict[str, Any] | None:
    """The next tier with what is still needed in its unit ("680 Coins to Gold", "$120 more to
    Gold") and a percentage toward it: progress_value / the tier's milestone (floor, 0-100).

    The unit is the program's VIP milestone type (points earned or amount spent, in the shop
    currency); without VIP settings from Smile, points earned (Smile's advice for a points
    program; docs/languages.md §VIP milestones).
    """
    tier = next((t for t in program.vip_tiers if t.id == vip.next_vip_tier_id), None)
    if tier is None:
        return None
    metric = (program.vip_settings.milestone_type if program.vip_settings else None) or (
        "points_earned"
    )
    needed = vip.delta_to_next_vip_tier
    percent = None
    if tier.milestone and vip.progress_value is not None:
        percent = max(0, min(100, int(vip.progress_value * 100 // tier.milestone)))
    text = None
    if needed is not None:
        if metric == "amount_spent":
            amount = texts.money(language, Decimal(str(needed)), currency)
            text = texts.message(language, "vip_amount", amount=amount, tier=tier.name)
        else:
            count = texts.points(language, math.ceil(needed), program.points_label)
            text = texts.message(language, "vip_points", points=count, tier=tier.name)
    return {
        "id": tier.id,
        "name": tier.name,
        "image_url": tier.image_url,
        "amount_needed": needed,
        "metric": metric,
        "milestone": tier.milestone,
        "progress_value": vip.progress_value,
        "percent": percent,
        "text": text,
    }
