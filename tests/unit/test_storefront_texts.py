"""The server-built storefront texts in en, pt-BR and pl: language negotiation, CLDR plurals,
Babel number and money formats, and the texts of the loyalty component in each language."""

from __future__ import annotations

from typing import Any

import pytest

from customer_hub.loyalty import texts
from customer_hub.loyalty import view as loyalty
from customer_hub.loyalty.snapshots import EarningRule, PointsLabel, Program, VipSettings, VipStatus

COINS = PointsLabel(one="Coin", other="Coins")
DEFAULT = PointsLabel()  # Smile's own "Point" / "Points", never written by the merchant


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("pl", "pl"),
        ("pl-PL,pl;q=0.9,en;q=0.8", "pl"),
        ("pt-BR", "pt-BR"),
        ("pt", "pt-BR"),
        ("pt-PT;q=0.9", "pt-BR"),
        ("de-DE,de;q=0.9", "en"),
        ("de, pl;q=0.5, pt;q=0.7", "pt-BR"),
        ("en-GB", "en"),
        ("pl;q=0, pt;q=0.1", "pt-BR"),
        ("*", "en"),
        ("pl;q=abc, en", "en"),
    ],
)
def test_accept_language_picks_one_of_three_languages_else_english(
    header: str | None, language: str
) -> None:
    assert texts.negotiate(header) == language


@pytest.mark.parametrize(
    ("count", "category", "word"),
    [
        (1, "one", "punkt"),
        (2, "few", "punkty"),
        (3, "few", "punkty"),
        (4, "few", "punkty"),
        (5, "many", "punktów"),
        (11, "many", "punktów"),
        (12, "many", "punktów"),
        (22, "few", "punkty"),
        (25, "many", "punktów"),
        (0, "many", "punktów"),
        (1.5, "other", "punktu"),
        (0.5, "other", "punktu"),
    ],
)
def test_polish_points_take_every_cldr_plural_form(count: float, category: str, word: str) -> None:
    assert texts.plural_category("pl", count) == category
    shown = texts.points("pl", count, DEFAULT)
    assert shown.endswith(f" {word}") and shown.split(" ")[0] == texts.number("pl", count)


@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, "1 Coin"), (2, "2 Coins"), (5, "5 Coins"), (22, "22 Coins"), (1.5, "1,5 Coins")],
)
def test_a_merchants_own_label_uses_one_for_cldr_one_and_other_for_the_rest(
    count: float, expected: str
) -> None:
    assert texts.points("pl", count, COINS) == expected


def test_portuguese_and_english_plurals() -> None:
    assert texts.points("pt-BR", 1, DEFAULT) == "1 ponto"
    assert texts.points("pt-BR", 2, DEFAULT) == "2 pontos"
    assert texts.points("pt-BR", 1500, COINS) == "1.500 Coins"
    assert texts.points("en", 1, DEFAULT) == "1 Point"
    assert texts.points("en", 1500, COINS) == "1,500 Coins"


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("en", "1", "USD", "$1"),
        ("en", "2.5", "EUR", "€2.50"),
        ("en", "1200", "USD", "$1,200"),
        ("pl", "1", "USD", "1 USD"),
        ("pl", "10", "PLN", "10 zł"),
        ("pl", "2.5", "PLN", "2,50 zł"),
        ("pl", "12000", "PLN", "12 000 zł"),
        ("pt-BR", "1", "BRL", "R$ 1"),
        ("pt-BR", "2.5", "BRL", "R$ 2,50"),
        ("pt-BR", "1200", "USD", "US$ 1.200"),
    ],
)
def test_money_in_each_locale_by_babel(
    language: texts.Language, amount: str, currency: str, expected: str
) -> None:
    assert texts.money(language, amount, currency).replace("\xa0", " ") == expected


def rule(value: dict[str, Any]) -> EarningRule:
    return EarningRule.model_validate({"id": 7, "name": "Place an order", "reward_value": value})


PER_ORDER = {"type": "variable", "variable": {"value": 5, "per_amount": 1}}


@pytest.mark.parametrize(
    ("language", "currency", "expected"),
    [
        ("en", "USD", "5 Points for every $1 spent"),
        ("pt-BR", "BRL", "5 pontos a cada R$ 1 gastos"),
        ("pl", "PLN", "5 punktów za każde wydane 1 zł"),
    ],
)
def test_ways_to_earn_text_per_language(
    language: texts.Language, currency: str, expected: str
) -> None:
    text = loyalty.earning_text(rule(PER_ORDER), DEFAULT, currency, language)
    assert text.replace("\xa0", " ") == expected


def test_fixed_ways_to_earn_in_polish_decline_the_default_label() -> None:
    two = rule({"type": "fixed", "fixed": {"value": 2}})
    hundred = rule({"type": "fixed", "fixed": {"value": 100}})
    assert loyalty.earning_text(two, DEFAULT, "PLN", "pl") == "2 punkty"
    assert loyalty.earning_text(hundred, DEFAULT, "PLN", "pl") == "100 punktów"


def vip_program(metric: str | None) -> Program:
    return Program.model_validate(
        {
            "points_label": {"one": "Coin", "other": "Coins"},
            "vip_tiers": [
                {"id": 2, "name": "Silver", "milestone": 500},
                {"id": 3, "name": "Gold", "milestone": 1500},
            ],
            "vip_settings": None if metric is None else {"milestone_type": metric},
        }
    )


STATUS = VipStatus(
    vip_tier_id=2, next_vip_tier_id=3, progress_value=820, delta_to_next_vip_tier=680
)


@pytest.mark.parametrize(
    ("metric", "language", "currency", "text"),
    [
        ("points_earned", "en", "USD", "680 Coins to Gold"),
        ("points_earned", "pl", "PLN", "Brakuje 680 Coins do poziomu Gold"),
        ("points_earned", "pt-BR", "BRL", "Faltam 680 Coins para Gold"),
        ("amount_spent", "en", "USD", "$680 more to Gold"),
        ("amount_spent", "pl", "PLN", "Wydaj jeszcze 680 zł, aby zdobyć poziom Gold"),
        ("amount_spent", "pt-BR", "BRL", "Faltam R$ 680 em compras para Gold"),
        (None, "en", "USD", "680 Coins to Gold"),
    ],
)
def test_vip_progress_names_its_unit(
    metric: str | None, language: texts.Language, currency: str, text: str
) -> None:
    shown = loyalty.vip_progress(vip_program(metric), STATUS, currency, language)
    assert shown is not None
    assert shown["text"].replace("\xa0", " ") == text
    assert shown["metric"] == (metric or "points_earned")
    assert shown["percent"] == 54, "820 of 1500, floor"
    assert shown["milestone"] == 1500 and shown["progress_value"] == 820


def test_vip_settings_parse_smiles_milestone_type() -> None:
    assert VipSettings.model_validate({"milestone_type": "amount_spent"}).milestone_type == (
        "amount_spent"
    )
