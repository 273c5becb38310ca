"""The loyalty component's rules: state table, best/next reward, progress, labels, ways to earn."""

from __future__ import annotations

from typing import Any

import pytest

from customer_hub.loyalty import view as loyalty
from customer_hub.loyalty.snapshots import (
    CustomerSnapshot,
    EarningRule,
    PointsLabel,
    PointsProduct,
    Program,
)


def fixed(pid: int, price: int, name: str | None = None) -> PointsProduct:
    return PointsProduct.model_validate(
        {
            "id": pid,
            "exchange_type": "fixed",
            "points_price": price,
            "reward": {"name": name or f"Reward {pid}"},
        }
    )


def variable(pid: int, *, step: int = 100, minimum: int = 100, maximum: int | None = 1000):
    return PointsProduct.model_validate(
        {
            "id": pid,
            "exchange_type": "variable",
            "variable_points_step": step,
            "variable_points_step_reward_value": 1.0,
            "variable_points_min": minimum,
            "variable_points_max": maximum,
            "exchange_description": "100 Points = $1 off",
            "reward": {"name": "$ off"},
        }
    )


def customer(state: str = "member", balance: int = 350, **extra: Any) -> CustomerSnapshot:
    return CustomerSnapshot.model_validate(
        {
            "smile_customer_id": 1,
            "email": "a@example.com",
            "state": state,
            "points_balance": balance,
            "updated_at": "2026-11-23T10:00:00Z",
            "synced_at": "2026-11-23T10:00:00Z",
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("logged_in", "snapshot", "expected"),
    [
        (False, None, "login_required"),
        (False, customer(), "login_required"),
        (True, None, "not_member"),
        (True, customer("disabled", 500), "excluded"),
        (True, customer("candidate", 0), "join"),
        (True, customer("member", 0), "join"),
        (True, customer("candidate", 1), "member"),
        (True, customer("member", 350), "member"),
    ],
)
def test_state_table(logged_in: bool, snapshot: CustomerSnapshot | None, expected: str) -> None:
    assert loyalty.state_of(logged_in, snapshot) == expected


def test_best_reward_is_the_dearest_affordable_with_ties_on_lowest_id() -> None:
    products = [fixed(12, 500), fixed(11, 100), fixed(9, 300), fixed(7, 300), fixed(20, 1000)]
    best = loyalty.best_reward(products, 350)
    assert best is not None and best.id == 7
    assert loyalty.best_reward(products, 99) is None
    all_best = loyalty.best_reward(products, 5000)
    assert all_best is not None and all_best.id == 20


def test_an_affordable_fixed_reward_is_recommended_over_any_variable_one() -> None:
    """docs/reward-ranking.md: 300 Coins for $3 off is never recommended above 250 Coins for a
    fixed reward (whose value Smile does not state), even though it spends more points."""
    order_discount = variable(16, step=100, minimum=100, maximum=5000)
    products = [fixed(11, 100), fixed(12, 250, "$5 off"), order_discount]
    best = loyalty.best_reward(products, 350)
    assert best is not None and best.id == 12
    assert [p.id for p in loyalty.ranked_affordable(products, 350)] == [12, 11, 16]
    assert [p.id for p in loyalty.ranked_affordable(products, 5000)] == [12, 11, 16]
    only_variable = loyalty.best_reward([fixed(20, 400), order_discount], 350)
    assert only_variable is not None and only_variable.id == 16
    two_variables = [variable(3, maximum=200), variable(4, maximum=None), fixed(20, 400)]
    best_variable = loyalty.best_reward(two_variables, 350)
    assert best_variable is not None and best_variable.id == 4, "300 spendable beats 200"
    ties = loyalty.best_reward([variable(8, maximum=None), variable(6, maximum=None)], 350)
    assert ties is not None and ties.id == 6, "ties: the lowest id"


def test_best_reward_text_names_the_value_and_the_preview_a_variable_range() -> None:
    order_discount = variable(16, step=100, minimum=100, maximum=5000)
    label = PointsLabel(one="Coin", other="Coins")
    body = loyalty.best_reward_json(order_discount, 350, label, "USD", "en")
    assert body["text"] == "Redeem 300 Coins for $ off worth $3"
    assert body["value"] == {"amount": "3.00", "currency": "USD"}
    polish = loyalty.best_reward_json(order_discount, 350, label, "PLN", "pl")
    assert polish["text"].replace("\xa0", " ") == "Wymień 300 Coins na $ off o wartości 3 zł"
    fixed_text = loyalty.best_reward_json(fixed(12, 250, "$5 off"), 350, label, "USD", "pt-BR")
    assert fixed_text["text"] == "Resgate 250 Coins para obter $5 off"
    assert fixed_text["value"] is None and fixed_text["variable"] is None
    preview = loyalty.reward_summary(order_discount, 350, "USD")
    assert preview["exchange_type"] == "variable"
    assert preview["variable"] == {
        "min": 100,
        "max": 300,
        "min_value": {"amount": "1.00", "currency": "USD"},
        "max_value": {"amount": "3.00", "currency": "USD"},
    }


def test_next_reward_cheapest_locked_none_when_all_affordable() -> None:
    products = [fixed(12, 500), fixed(11, 100), fixed(13, 500), fixed(20, 1000)]
    upcoming = loyalty.next_reward(products, 350)
    assert upcoming is not None and upcoming.id == 12, "ties: lowest id"
    nothing_affordable = loyalty.next_reward(products, 50)
    assert nothing_affordable is not None and nothing_affordable.id == 11
    assert loyalty.next_reward(products, 1000) is None


def test_variable_rewards_afford_from_minimum_and_rank_by_spendable_points() -> None:
    product = variable(5, step=100, minimum=200, maximum=1000)
    assert loyalty.spendable(product, 150) is None
    assert loyalty.spendable(product, 250) == 200
    assert loyalty.spendable(product, 5000) == 1000
    assert loyalty.entry_price(product) == 200
    best = loyalty.best_reward([product], 950)
    assert best is not None and best.id == 5, "a variable reward when no fixed one is affordable"
    upcoming = loyalty.next_reward([product, fixed(1, 500)], 100)
    assert upcoming is not None and upcoming.id == 5
    assert loyalty.variable_value_minor(product, 300, "USD") == 300


@pytest.mark.parametrize(
    ("points", "problem"),
    [(None, "required"), (100, "at least 200"), (1100, "at most 1000"), (250, "multiple of 100")],
)
def test_points_to_spend_validation(points: int | None, problem: str) -> None:
    product = variable(5, step=100, minimum=200, maximum=1000)
    message = loyalty.check_points_to_spend(product, points)
    assert message is not None and problem in message
    assert loyalty.check_points_to_spend(product, 300) is None
    assert loyalty.check_points_to_spend(fixed(1, 100), None) is None
    assert loyalty.check_points_to_spend(fixed(1, 100), 100) is not None


def test_progress_floor_join_and_all_affordable() -> None:
    products = [fixed(11, 100), fixed(12, 300)]
    assert loyalty.progress("member", products, 200) == {
        "current": 200,
        "target": 300,
        "percent": 66,
    }
    assert loyalty.progress("member", products, 299)["percent"] == 99
    assert loyalty.progress("member", products, 300) == {
        "current": 300,
        "target": None,
        "percent": 100,
    }
    assert loyalty.progress("join", products, 0) == {"current": 0, "target": 100, "percent": 0}
    assert loyalty.progress("member", [], 40)["percent"] == 0


def test_points_label_plurals() -> None:
    label = PointsLabel(one="Coin", other="Coins")
    assert loyalty.points_text(1, label) == "1 Coin"
    assert loyalty.points_text(0, label) == "0 Coins"
    assert loyalty.points_text(350, label) == "350 Coins"


def rule(reward_value: dict[str, Any], **extra: Any) -> EarningRule:
    return EarningRule.model_validate(
        {"id": 7, "name": "Place an order", "reward_value": reward_value, **extra}
    )


def var(value: float, per: float) -> dict[str, Any]:
    return {"type": "variable", "variable": {"value": value, "per_amount": per}}


@pytest.mark.parametrize(
    ("reward_value", "currency", "text"),
    [
        ({"type": "fixed", "fixed": {"value": 100}}, "USD", "100 Points"),
        ({"type": "fixed", "fixed": {"value": 1}}, "USD", "1 Point"),
        (var(5, 1), "USD", "5 Points for every $1 spent"),
        (var(1, 2.5), "EUR", "1 Point for every €2.50 spent"),
        (var(10, 100), "PLN", "10 Points for every PLN100 spent"),
    ],
)
def test_ways_to_earn_texts(reward_value: dict[str, Any], currency: str, text: str) -> None:
    assert loyalty.earning_text(rule(reward_value), PointsLabel(), currency) == text


def test_ways_to_earn_respects_vip_restrictions() -> None:
    program = Program(
        earning_rules=[
            rule({"type": "fixed", "fixed": {"value": 50}}),
            rule({"type": "fixed", "fixed": {"value": 80}}, id=8, restricted_to_vip_tier_ids=[3]),
        ]
    )
    assert [w["id"] for w in loyalty.ways_to_earn(program, "USD", None)] == [7]
    assert [w["id"] for w in loyalty.ways_to_earn(program, "USD", 3)] == [7, 8]


def program() -> Program:
    return Program.model_validate(
        {
            "points_label": {"one": "Point", "other": "Points"},
            "points_products": [
                fixed(11, 100, "Free shipping").model_dump(),
                fixed(12, 500, "$10 off").model_dump(),
            ],
            "earning_rules": [
                {
                    "id": 7,
                    "name": "Place an order",
                    "reward_value": {"type": "variable", "variable": {"value": 5, "per_amount": 1}},
                }
            ],
            "vip_tiers": [
                {"id": 2, "name": "Silver", "image_url": "https://img/s"},
                {"id": 3, "name": "Gold", "image_url": "https://img/g"},
            ],
        }
    )


def test_member_loyalty_json_matches_api_example() -> None:
    snapshot = customer(
        referral_url="https://i.refs.cc/abc",
        vip_status={"vip_tier_id": 2, "next_vip_tier_id": 3, "delta_to_next_vip_tier": 200.0},
    )
    body = loyalty.loyalty_json("member", program(), snapshot, 2, "USD")
    assert body["points_balance"] == 350
    assert body["vip_tier"] == {"id": 2, "name": "Silver", "image_url": "https://img/s"}
    assert body["next_vip_tier"]["amount_needed"] == 200.0
    assert body["best_reward"] == {
        "points_product_id": 11,
        "name": "Free shipping",
        "points_price": 100,
        "exchange_type": "fixed",
        "variable": None,
        "text": "Redeem 100 Points for Free shipping",
        "value": None,
    }
    assert body["next_reward"] == {
        "points_product_id": 12,
        "name": "$10 off",
        "points_price": 500,
        "points_needed": 150,
    }
    assert body["progress"] == {"current": 350, "target": 500, "percent": 70}
    assert body["rewards_preview"] == [
        {
            "points_product_id": 11,
            "name": "Free shipping",
            "points_price": 100,
            "exchange_type": "fixed",
            "variable": None,
        }
    ]
    assert body["ways_to_earn"][0]["reward_text"] == "5 Points for every $1 spent"
    assert body["coupons_available"] == 2
    assert body["referral_url"] == "https://i.refs.cc/abc"


@pytest.mark.parametrize("state", ["login_required", "excluded", "not_member"])
def test_no_personal_value_outside_join_and_member(state: loyalty.State) -> None:
    snapshot = customer("disabled", 900, referral_url="https://i.refs.cc/x")
    body = loyalty.loyalty_json(state, program(), snapshot, 3, "USD")
    for key in ("points_balance", "vip_tier", "best_reward", "next_reward", "referral_url"):
        assert body[key] is None, key
    assert body["rewards_preview"] == [] and body["ways_to_earn"] == []
    assert "900" not in str(body) and "refs.cc" not in str(body)


def test_the_referral_link_is_hidden_while_the_referral_program_is_inactive() -> None:
    snapshot = customer(referral_url="https://i.refs.cc/abc")
    shop = program()
    coupons: dict[str, list[dict[str, Any]]] = {"applied": [], "available": []}
    for status, shown in [("active", True), ("inactive", False), (None, True)]:
        shop.referral_settings = None if status is None else {"status": status}
        body = loyalty.loyalty_json("member", shop, snapshot, 0, "USD")
        page = loyalty.rewards_json("member", shop, snapshot, coupons, "USD")
        expected = "https://i.refs.cc/abc" if shown else None
        assert body["referral_url"] == page["referral_url"] == expected, status


def test_join_shows_an_empty_bar_and_the_first_reward() -> None:
    body = loyalty.loyalty_json("join", program(), customer("candidate", 0), 0, "USD")
    assert body["progress"] == {"current": 0, "target": 100, "percent": 0}
    assert body["best_reward"] is None
    assert body["next_reward"]["points_needed"] == 100


def test_rewards_json_splits_redeemable_and_locked() -> None:
    body = loyalty.rewards_json(
        "member", program(), customer(balance=350), {"applied": [], "available": []}, "USD"
    )
    assert [r["points_product_id"] for r in body["redeemable"]] == [11]
    assert body["locked"][0]["points_product_id"] == 12
    assert body["locked"][0]["points_needed"] == 150
    assert body["redeemable"][0]["exchange_type"] == "fixed"
    product = variable(5, step=100, minimum=200)
    reward = loyalty.reward_json(product, "USD")
    assert reward["variable"] == {
        "min": 200,
        "max": 1000,
        "step": 100,
        "step_value": {"amount": "1.00", "currency": "USD"},
    }
