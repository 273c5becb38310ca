"""The loyalty component's rules (SPEC §2-3): pure functions over Smile snapshots, no I/O.

State, affordability, best and next reward, progress and the JSON shapes of API.md's
`GET /loyalty` and `GET /rewards`; ways to earn and VIP progress are in
`customer_hub.loyalty.earning` (imported here too).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from customer_hub import money
from customer_hub.loyalty import texts
from customer_hub.loyalty.earning import earning_text as earning_text
from customer_hub.loyalty.earning import vip_progress as vip_progress
from customer_hub.loyalty.earning import ways_to_earn as ways_to_earn
from customer_hub.loyalty.snapshots import (
    CustomerSnapshot,
    PointsLabel,
    PointsProduct,
    Program,
)
from customer_hub.loyalty.texts import Language

State = Literal["login_required", "excluded", "not_member", "join", "member"]
PERSONAL_STATES: tuple[State, ...] = ("join", "member")
PREVIEW_SIZE = 3


def state_of(logged_in: bool, customer: CustomerSnapshot | None) -> State:
    """SPEC §2's state table."""
    if not logged_in:
        return "login_required"
    if customer is None:
        return "not_member"
    if customer.state == "disabled":
        return "excluded"
    # Points held by a redemption in flight are still the member's (the balance shown excludes
    # them): the state follows the stored balance.
    stored = customer.snapshot_balance
    balance = customer.points_balance if stored is None else stored
    return "member" if balance >= 1 else "join"


def points_text(count: int, label: PointsLabel, language: Language = "en") -> str:
    """ "1 Point", "350 Points", "5 punktów" — the program's label in the shopper's language."""
    return texts.points(language, count, label)


# ------------------------------------------------------------------ affordability
def entry_price(product: PointsProduct) -> int:
    """The fewest points that buy this product (a variable product's minimum)."""
    if product.exchange_type == "fixed":
        return int(product.points_price or 0)
    step = max(1, int(product.variable_points_step or 1))
    minimum = max(int(product.variable_points_min or step), step)
    return -(-minimum // step) * step  # the smallest multiple of the step at or above the min


def spendable(product: PointsProduct, balance: int) -> int | None:
    """The most points the shopper can spend on it now, or None when it is not affordable.

    Fixed: its price. Variable: the largest multiple of the step between the minimum and
    min(maximum, balance).
    """
    if product.exchange_type == "fixed":
        price = int(product.points_price or 0)
        return price if price <= balance else None
    step = max(1, int(product.variable_points_step or 1))
    ceiling = min(int(product.variable_points_max or balance), balance)
    most = ceiling // step * step
    return most if most >= entry_price(product) else None


def is_affordable(product: PointsProduct, balance: int) -> bool:
    return spendable(product, balance) is not None


def check_points_to_spend(product: PointsProduct, points: int | None) -> str | None:
    """Why `points_to_spend` is invalid for this product, or None when it is valid."""
    if product.exchange_type == "fixed":
        return None if points is None else "points_to_spend applies to variable rewards only"
    if points is None:
        return "points_to_spend is required for a variable reward"
    step = max(1, int(product.variable_points_step or 1))
    if points < entry_price(product):
        return f"points_to_spend must be at least {entry_price(product)}"
    if product.variable_points_max is not None and points > product.variable_points_max:
        return f"points_to_spend must be at most {product.variable_points_max}"
    if points % step:
        return f"points_to_spend must be a multiple of {step}"
    return None


def variable_value_minor(product: PointsProduct, points: int, currency: str) -> int:
    """A variable reward's value: points / step * step reward value (SPEC §2)."""
    step = max(1, int(product.variable_points_step or 1))
    value = Decimal(points // step) * Decimal(str(product.variable_points_step_reward_value or 0))
    return money.to_minor(value, currency)


def recommendation_rank(product: PointsProduct, balance: int) -> tuple[int, int, int]:
    """The order in which affordable rewards are recommended (docs/reward-ranking.md): fixed
    rewards first, dearest first; then variable rewards, the most the shopper could spend on
    them first; ties: the lowest id.

    Smile states a variable reward's value (points / step x step value) but never a fixed
    reward's (only its name, e.g. "$5 off"), so the two cannot be compared by value. Ranking a
    fixed reward the shopper can afford above every variable one means the hub never recommends
    a variable reward that is worth less than it (300 Coins for $3 off above 250 Coins for $5
    off); a variable reward is recommended when no fixed reward is affordable.
    """
    return (product.exchange_type != "fixed", -(spendable(product, balance) or 0), product.id)


def ranked_affordable(products: list[PointsProduct], balance: int) -> list[PointsProduct]:
    """Every reward the shopper can afford now, best recommendation first."""
    affordable = [p for p in products if is_affordable(p, balance)]
    return sorted(affordable, key=lambda p: recommendation_rank(p, balance))


def best_reward(products: list[PointsProduct], balance: int) -> PointsProduct | None:
    """The first of `ranked_affordable`, or None when nothing is affordable."""
    ranked = ranked_affordable(products, balance)
    return ranked[0] if ranked else None


def next_reward(products: list[PointsProduct], balance: int) -> PointsProduct | None:
    """The cheapest product not yet affordable (ties: lowest id); None when all are."""
    locked = [p for p in products if not is_affordable(p, balance)]
    if not locked:
        return None
    return min(locked, key=lambda p: (entry_price(p), p.id))


def progress(state: State, products: list[PointsProduct], balance: int) -> dict[str, Any]:
    """Toward the next reward: floor(balance / its price * 100); 0 for join; 100 when every
    reward is affordable; 0 without rewards."""
    upcoming = next_reward(products, balance)
    if state == "join":
        target = entry_price(upcoming) if upcoming else None
        return {"current": 0, "target": target, "percent": 0}
    if upcoming is None:
        return {"current": balance, "target": None, "percent": 100 if products else 0}
    target = entry_price(upcoming)
    percent = 100 if target <= 0 else max(0, min(100, balance * 100 // target))
    return {"current": balance, "target": target, "percent": percent}


# ------------------------------------------------------------------ JSON shapes
def _value(product: PointsProduct, points: int, currency: str) -> money.MoneyJSON:
    return money.to_json(variable_value_minor(product, points, currency), currency)


def reward_summary(product: PointsProduct, balance: int, currency: str) -> dict[str, Any]:
    """{"points_product_id", "name", "points_price", "exchange_type", "variable"} at the price
    the shopper would pay now; a variable reward also gives the range the shopper can spend
    now and what it is worth at both ends (`variable` is null for a fixed reward)."""
    price = spendable(product, balance) or entry_price(product)
    summary: dict[str, Any] = {
        "points_product_id": product.id,
        "name": product.reward.name,
        "points_price": price,
        "exchange_type": product.exchange_type,
        "variable": None,
    }
    if product.exchange_type == "variable":
        low = entry_price(product)
        summary["variable"] = {
            "min": low,
            "max": price,
            "min_value": _value(product, low, currency),
            "max_value": _value(product, price, currency),
        }
    return summary


def best_reward_json(
    product: PointsProduct, balance: int, label: PointsLabel, currency: str, language: Language
) -> dict[str, Any]:
    """The recommended reward and its text with its value: a fixed reward's value is its name
    ("Redeem 250 Coins for $5 off"); a variable one's is computed ("... worth $3")."""
    summary = reward_summary(product, balance, currency)
    spend = points_text(summary["points_price"], label, language)
    value = None
    if product.exchange_type == "variable":
        value = _value(product, summary["points_price"], currency)
        worth = texts.money(language, value["amount"], currency)
        text = texts.message(
            language, "redeem_worth", points=spend, reward=product.reward.name, value=worth
        )
    else:
        text = texts.message(language, "redeem", points=spend, reward=product.reward.name)
    return {**summary, "text": text, "value": value}


def reward_json(product: PointsProduct, currency: str) -> dict[str, Any]:
    """API.md's Reward."""
    body: dict[str, Any] = {
        "points_product_id": product.id,
        "name": product.reward.name,
        "description": product.reward.description,
        "image_url": product.reward.image_url,
        "exchange_type": product.exchange_type,
        "exchange_description": product.exchange_description,
    }
    if product.exchange_type == "fixed":
        body["points_price"] = product.points_price
    else:
        step = max(1, int(product.variable_points_step or 1))
        body["variable"] = {
            "min": entry_price(product),
            "max": product.variable_points_max,
            "step": step,
            "step_value": money.to_json(variable_value_minor(product, step, currency), currency),
        }
    return body


def _tier(program: Program, tier_id: int | None) -> dict[str, Any] | None:
    tier = next((t for t in program.vip_tiers if t.id == tier_id), None)
    return None if tier is None else {"id": tier.id, "name": tier.name, "image_url": tier.image_url}


def _referral_url(program: Program, customer: CustomerSnapshot) -> str | None:
    """The shopper's referral link, only while the merchant's referral program is active."""
    return customer.referral_url if program.referral_active else None


def loyalty_json(
    state: State,
    program: Program,
    customer: CustomerSnapshot | None,
    coupons_available: int,
    currency: str,
    language: Language = "en",
) -> dict[str, Any]:
    """GET /loyalty. Personal values only for `join` and `member`; texts in `language`."""
    body: dict[str, Any] = {
        "state": state,
        "points_label": program.points_label.model_dump(),
        "points_balance": None,
        "vip_tier": None,
        "next_vip_tier": None,
        "best_reward": None,
        "next_reward": None,
        "progress": None,
        "rewards_preview": [],
        "coupons_available": coupons_available if state != "excluded" else 0,
        "referral_url": None,
        "ways_to_earn": [],
        "synced_at": customer.synced_at if customer is not None else program.synced_at,
    }
    if state not in PERSONAL_STATES or customer is None:
        if state == "login_required":
            body["coupons_available"] = 0
        return body
    balance = customer.points_balance if state == "member" else 0
    products = program.points_products
    vip = customer.vip_status
    best = best_reward(products, balance)
    upcoming = next_reward(products, balance)
    affordable = ranked_affordable(products, balance)
    body.update(
        points_balance=balance,
        vip_tier=_tier(program, vip.vip_tier_id) if vip else None,
        next_vip_tier=vip_progress(program, vip, currency, language) if vip else None,
        progress=progress(state, products, balance),
        rewards_preview=[reward_summary(p, balance, currency) for p in affordable[:PREVIEW_SIZE]],
        referral_url=_referral_url(program, customer),
        ways_to_earn=ways_to_earn(program, currency, vip.vip_tier_id if vip else None, language),
    )
    if best is not None:
        body["best_reward"] = best_reward_json(
            best, balance, program.points_label, currency, language
        )
    if upcoming is not None:
        price = entry_price(upcoming)
        body["next_reward"] = {
            "points_product_id": upcoming.id,
            "name": upcoming.reward.name,
            "points_price": price,
            "points_needed": max(0, price - balance),
        }
    return body


def rewards_json(
    state: State,
    program: Program,
    customer: CustomerSnapshot | None,
    coupons: dict[str, list[dict[str, Any]]],
    currency: str,
    language: Language = "en",
) -> dict[str, Any]:
    """GET /rewards: redeemable and locked rewards, coupons, referral link, ways to earn."""
    body: dict[str, Any] = {
        "state": state,
        "points_label": program.points_label.model_dump(),
        "points_balance": None,
        "progress": None,
        "redeemable": [],
        "locked": [],
        "coupons": coupons,
        "referral_url": None,
        "ways_to_earn": [],
        "synced_at": customer.synced_at if customer is not None else program.synced_at,
    }
    if state not in PERSONAL_STATES or customer is None:
        return body
    balance = customer.points_balance if state == "member" else 0
    products = sorted(program.points_products, key=lambda p: (entry_price(p), p.id))
    vip = customer.vip_status
    redeemable, locked = [], []
    for product in products:
        reward = reward_json(product, currency)
        if is_affordable(product, balance):
            redeemable.append(reward)
        else:
            locked.append({**reward, "points_needed": max(0, entry_price(product) - balance)})
    body.update(
        points_balance=balance,
        progress=progress(state, products, balance),
        redeemable=redeemable,
        locked=locked,
        referral_url=_referral_url(program, customer),
        ways_to_earn=ways_to_earn(program, currency, vip.vip_tier_id if vip else None, language),
    )
    return body
