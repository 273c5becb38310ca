"""The loyalty component's rules (SPEC §2-3): pure functions over Smile snapshots, no I/O.

State, affordability, best and next reward, progress, VIP tiers, ways-to-earn texts and the
JSON shapes of API.md's `GET /loyalty` and `GET /rewards`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from customer_hub import money
from customer_hub.loyalty.snapshots import (
    CustomerSnapshot,
    EarningRule,
    PointsLabel,
    PointsProduct,
    Program,
)

State = Literal["login_required", "excluded", "not_member", "join", "member"]
PERSONAL_STATES: tuple[State, ...] = ("join", "member")
PREVIEW_SIZE = 3

_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£", "JPY": "¥", "BRL": "R$"}


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


def points_text(count: int, label: PointsLabel) -> str:
    """ "1 Point", "350 Points" — the program's label, singular or plural."""
    return f"{count} {label.of(count)}"


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


def best_reward(products: list[PointsProduct], balance: int) -> PointsProduct | None:
    """The affordable product of the highest price (a variable one at what the shopper could
    spend on it now); ties: the lowest id."""
    affordable = [(spendable(p, balance), p) for p in products]
    ranked = [(price, p) for price, p in affordable if price is not None]
    if not ranked:
        return None
    return min(ranked, key=lambda pair: (-pair[0], pair[1].id))[1]


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


# ------------------------------------------------------------------ ways to earn
def format_amount(amount: float, currency: str) -> str:
    """ "$1", "$2.50", "€10", "10 PLN": whole amounts without decimals."""
    value = Decimal(str(amount))
    digits = money.exponent(currency)
    text = (
        str(value.quantize(Decimal(1)))
        if value == value.to_integral_value()
        else str(value.quantize(Decimal(1).scaleb(-digits)))
    )
    symbol = _SYMBOLS.get(currency.upper())
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def _count(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def earning_text(rule: EarningRule, label: PointsLabel, currency: str) -> str:
    """ "100 Points" (fixed) or "5 Points for every $1 spent" (variable)."""
    reward_value = rule.reward_value
    if reward_value is None:
        return rule.name
    if reward_value.type == "variable" and reward_value.variable is not None:
        points = _count(reward_value.variable.value)
        per = format_amount(reward_value.variable.per_amount, currency)
        word = label.one if points == 1 else label.other
        return f"{points} {word} for every {per} spent"
    if reward_value.fixed is not None:
        points = _count(reward_value.fixed.value)
        return f"{points} {label.one if points == 1 else label.other}"
    return rule.name


def ways_to_earn(program: Program, currency: str, vip_tier_id: int | None) -> list[dict[str, Any]]:
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
                "reward_text": earning_text(rule, program.points_label, currency),
                "image_url": rule.image_url,
                "action_text": rule.action_text,
                "action_url": rule.action_url,
            }
        )
    return ways


# ------------------------------------------------------------------ JSON shapes
def reward_summary(product: PointsProduct, balance: int) -> dict[str, Any]:
    """{"points_product_id", "name", "points_price"} at the price the shopper would pay now."""
    price = spendable(product, balance) or entry_price(product)
    return {"points_product_id": product.id, "name": product.reward.name, "points_price": price}


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


def loyalty_json(
    state: State,
    program: Program,
    customer: CustomerSnapshot | None,
    coupons_available: int,
    currency: str,
) -> dict[str, Any]:
    """GET /loyalty. Personal values only for `join` and `member`."""
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
    next_tier = _tier(program, vip.next_vip_tier_id) if vip else None
    if next_tier is not None and vip is not None:
        next_tier["amount_needed"] = vip.delta_to_next_vip_tier
    best = best_reward(products, balance)
    upcoming = next_reward(products, balance)
    affordable = sorted(
        (p for p in products if is_affordable(p, balance)),
        key=lambda p: (-(spendable(p, balance) or 0), p.id),
    )
    body.update(
        points_balance=balance,
        vip_tier=_tier(program, vip.vip_tier_id) if vip else None,
        next_vip_tier=next_tier,
        progress=progress(state, products, balance),
        rewards_preview=[reward_summary(p, balance) for p in affordable[:PREVIEW_SIZE]],
        referral_url=customer.referral_url,
        ways_to_earn=ways_to_earn(program, currency, vip.vip_tier_id if vip else None),
    )
    if best is not None:
        summary = reward_summary(best, balance)
        summary["text"] = (
            f"Redeem {points_text(summary['points_price'], program.points_label)} "
            f"for {best.reward.name}"
        )
        body["best_reward"] = summary
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
        referral_url=customer.referral_url,
        ways_to_earn=ways_to_earn(program, currency, vip.vip_tier_id if vip else None),
    )
    return body
