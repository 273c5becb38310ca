"""A realistic, seeded Smile.io program for the stand-in: rewards, tiers, rules and customers.

Same seed, same program and customers (ids, emails, states, balances); only timestamps follow
the clock. `demo_shoppers()` names one email per hub loyalty state for demos and tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

DEMO_SEED = 20261123
FIRST_CUSTOMER_ID = 304_169_000
POINTS_LABEL = {"one": "Coin", "other": "Coins"}
IMAGE = "https://platform-images.smilecdn.co/demo/{}.png"

# Named shoppers, one per hub state (API.md `state`); login_required needs no email.
EXCLUDED_EMAIL = "excluded.shopper@example.com"
NOT_MEMBER_EMAIL = "no.loyalty@example.com"
JOIN_EMAIL = "new.member@example.com"
CANDIDATE_EMAIL = "candidate.shopper@example.com"
MEMBER_EMAIL = "loyal.member@example.com"
RICH_MEMBER_EMAIL = "gold.member@example.com"
DUPLICATE_EMAIL = "twin.shopper@example.com"


def demo_shoppers() -> dict[str, str | None]:
    """One email per hub loyalty state (SPEC §2) in the demo program."""
    return {
        "login_required": None,
        "excluded": EXCLUDED_EMAIL,
        "not_member": NOT_MEMBER_EMAIL,
        "join": JOIN_EMAIL,
        "member": MEMBER_EMAIL,
    }


def points_products() -> list[dict[str, Any]]:
    def fixed(pid: int, name: str, price: int, description: str) -> dict[str, Any]:
        return {
            "id": pid,
            "exchange_type": "fixed",
            "exchange_description": f"{price} Coins = {name}",
            "points_price": price,
            "variable_points_step": None,
            "variable_points_step_reward_value": None,
            "variable_points_min": None,
            "variable_points_max": None,
            "reward": {
                "id": pid + 1000,
                "name": name,
                "description": description,
                "image_url": IMAGE.format(f"reward-{pid}"),
            },
        }

    variable = {
        "id": 16,
        "exchange_type": "variable",
        "exchange_description": "100 Coins = $1 off",
        "points_price": None,
        "variable_points_step": 100,
        "variable_points_step_reward_value": 1,
        "variable_points_min": 100,
        "variable_points_max": 5000,
        "reward": {
            "id": 1016,
            "name": "Order discount",
            "description": "$1 off your order for every 100 Coins",
            "image_url": IMAGE.format("reward-16"),
        },
    }
    return [
        fixed(11, "Free shipping", 100, "Free shipping on your next order"),
        fixed(12, "$5 off", 250, "$5 off your next order"),
        fixed(13, "$10 off", 500, "$10 off your next order"),
        fixed(14, "Free tote bag", 750, "A free tote bag with your next order"),
        fixed(15, "$25 off", 1500, "$25 off orders over $100"),
        variable,
    ]


def earning_rules() -> list[dict[str, Any]]:
    def rule(
        rid: int,
        name: str,
        value: dict[str, Any],
        action: tuple[str | None, str | None] = (None, None),
    ) -> dict[str, Any]:
        return {
            "id": rid,
            "name": name,
            "image_url": IMAGE.format(f"earning-{rid}"),
            "action_text": action[0],
            "action_url": action[1],
            "restricted_to_vip_tier_ids": [],
            "reward": {"type": "points"},
            "reward_value": value,
            "earning_limit": None,
        }

    def fixed(value: int) -> dict[str, Any]:
        return {"type": "fixed", "fixed": {"value": value}}

    order = rule(
        7, "Place an order", {"type": "variable", "variable": {"value": 5, "per_amount": 1}}
    )
    birthday = rule(9, "Celebrate a birthday", fixed(250))
    birthday["earning_limit"] = {
        "max": 1,
        "type": "rolling",
        "rolling": {"unit": "day", "unit_count": 365},
    }
    vip_review = rule(11, "Leave a photo review", fixed(100))
    vip_review["restricted_to_vip_tier_ids"] = [2, 3]
    return [
        order,
        rule(8, "Create an account", fixed(100)),
        birthday,
        rule(10, "Follow on Instagram", fixed(50), ("Follow us", "https://instagram.com/demo")),
        vip_review,
    ]


def vip_tiers() -> list[dict[str, Any]]:
    return [
        {"id": 1, "name": "Bronze", "image_url": IMAGE.format("tier-bronze"), "milestone": 0,
         "perks": [{"name": "Birthday reward"}], "entry_rewards": []},
        {"id": 2, "name": "Silver", "image_url": IMAGE.format("tier-silver"), "milestone": 500,
         "perks": [{"name": "Early access to sales"}], "entry_rewards": []},
        {"id": 3, "name": "Gold", "image_url": IMAGE.format("tier-gold"), "milestone": 1500,
         "perks": [{"name": "Free shipping on every order"}], "entry_rewards": []},
    ]  # fmt: skip


def referral_settings() -> dict[str, Any]:
    return {
        "status": "active",
        "sender_reward": {"name": "$10 off coupon", "description": "When a friend orders"},
        "receiver_reward": {"name": "$10 off coupon", "description": "Your first order"},
    }


def vip_settings() -> dict[str, Any]:
    """Tiers are entered by points earned (Smile's advice for a points program); a test can make
    the account's milestones an amount spent instead."""
    return {"milestone_type": "points_earned", "program_period": "lifetime"}


def vip_status(tiers: list[dict[str, Any]], progress: float) -> dict[str, Any]:
    current = [t for t in tiers if t["milestone"] <= progress]
    upcoming = [t for t in tiers if t["milestone"] > progress]
    return {
        "vip_tier_id": current[-1]["id"] if current else None,
        "vip_tier_expires_at": None,
        "progress_value": float(progress),
        "current_vip_period_end": None,
        "delta_to_retain_vip_tier": None,
        "next_vip_tier_id": upcoming[0]["id"] if upcoming else None,
        "delta_to_next_vip_tier": float(upcoming[0]["milestone"] - progress) if upcoming else None,
    }


@dataclass
class DemoCustomer:
    """A customer before the stand-in stamps ids and times on it."""

    email: str
    first_name: str
    last_name: str
    state: str
    points_balance: int
    progress: float
    coupons: int = 0  # issued reward fulfillments
    used_coupons: int = 0


_FIRST = ["Ana", "Ben", "Chloe", "Dawid", "Eva", "Filip", "Grace", "Hugo", "Iga", "Jan",
          "Kasia", "Liam", "Maja", "Noah", "Ola", "Piotr", "Rosa", "Sam", "Tomas",
          "Zoe"]  # fmt: skip
_LAST = ["Nowak", "Silva", "Smith", "Kowalski", "Costa", "Brown", "Wiśniewska", "Santos",
         "Taylor", "Lewandowski", "Pereira", "Wilson"]  # fmt: skip


def demo_customers(count: int = 300, seed: int = DEMO_SEED) -> list[DemoCustomer]:
    """`count` customers (at least the named ones) in every state, duplicates included."""
    rng = random.Random(seed)
    named = [
        DemoCustomer(EXCLUDED_EMAIL, "Ed", "Excluded", "disabled", 120, 120),
        DemoCustomer(JOIN_EMAIL, "Nina", "New", "member", 0, 0),
        DemoCustomer(CANDIDATE_EMAIL, "Carl", "Candidate", "candidate", 0, 0),
        DemoCustomer(MEMBER_EMAIL, "Lena", "Loyal", "member", 350, 820, coupons=2, used_coupons=1),
        DemoCustomer(RICH_MEMBER_EMAIL, "Gus", "Gold", "member", 5200, 2400, coupons=1),
        DemoCustomer(DUPLICATE_EMAIL, "Tia", "Twin", "candidate", 0, 0),
        DemoCustomer(DUPLICATE_EMAIL.upper(), "Tia", "Twin", "member", 640, 640, coupons=1),
    ]
    customers = list(named)
    while len(customers) < count:
        n = len(customers)
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        email = f"{first}.{last}.{n}@example.com".lower().replace("ś", "s")
        roll = rng.random()
        if roll < 0.08:
            state, balance = "candidate", 0
        elif roll < 0.13:
            state, balance = "disabled", rng.randrange(0, 800)
        elif roll < 0.25:
            state, balance = "member", 0
        else:
            state, balance = "member", rng.randrange(1, 3000)
        progress = balance + rng.randrange(0, 1200) if state != "candidate" else 0
        coupons = rng.choice([0, 0, 0, 1, 2]) if state == "member" else 0
        customers.append(
            DemoCustomer(email, first, last, state, balance, progress, coupons, min(coupons, 1))
        )
        if rng.random() < 0.03 and len(customers) < count:  # the same email twice
            customers.append(DemoCustomer(email, first, last, "candidate", 0, 0))
    return customers[:count] if count >= len(named) else named
