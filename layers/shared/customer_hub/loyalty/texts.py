"""The texts the server builds for the storefront, in the shopper's language (API.md §Conventions).

Languages: `en`, `pt-BR` (also asked for as `pt`), `pl`; anything else is `en`. Numbers and
money are formatted by Babel (CLDR data), plural categories come from CLDR's rules.

Smile's points label has two forms only (`one`, `other`), written by the merchant in their own
language: the label's `one` form is used where the shopper's language uses CLDR category `one`
and its `other` form for every other category (Polish `few`, `many`, `other`), because a label
the merchant wrote cannot be declined by the hub. Smile's own default label ("Point"/"Points",
which the merchant never wrote) is replaced by the shopper's word with every CLDR form
(docs/languages.md).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Literal

from babel import Locale
from babel.numbers import format_currency, format_decimal

from customer_hub.loyalty.snapshots import PointsLabel

Language = Literal["en", "pt-BR", "pl"]
LANGUAGES: tuple[Language, ...] = ("en", "pt-BR", "pl")
DEFAULT_LANGUAGE: Language = "en"
_BABEL_LOCALE = {"en": "en_US", "pt-BR": "pt_BR", "pl": "pl_PL"}

# Smile's default points label, replaced by the shopper's own word in every CLDR form.
SMILE_DEFAULT_LABEL = PointsLabel(one="Point", other="Points")
_POINT_WORDS: dict[Language, dict[str, str]] = {
    "en": {"one": "Point", "other": "Points"},
    "pt-BR": {"one": "ponto", "other": "pontos"},
    "pl": {"one": "punkt", "few": "punkty", "many": "punktów", "other": "punktu"},
}

_MESSAGES: dict[Language, dict[str, str]] = {
    "en": {
        "redeem": "Redeem {points} for {reward}",
        "redeem_worth": "Redeem {points} for {reward} worth {value}",
        "earn_per_amount": "{points} for every {amount} spent",
        "vip_points": "{points} to {tier}",
        "vip_amount": "{amount} more to {tier}",
    },
    "pt-BR": {
        "redeem": "Resgate {points} para obter {reward}",
        "redeem_worth": "Resgate {points} para obter {reward} no valor de {value}",
        "earn_per_amount": "{points} a cada {amount} gastos",
        "vip_points": "Faltam {points} para {tier}",
        "vip_amount": "Faltam {amount} em compras para {tier}",
    },
    "pl": {
        "redeem": "Wymień {points} na {reward}",
        "redeem_worth": "Wymień {points} na {reward} o wartości {value}",
        "earn_per_amount": "{points} za każde wydane {amount}",
        "vip_points": "Brakuje {points} do poziomu {tier}",
        "vip_amount": "Wydaj jeszcze {amount}, aby zdobyć poziom {tier}",
    },
}


def negotiate(accept_language: str | None) -> Language:
    """The best of our languages for an `Accept-Language` header (q-values honoured; `pt` and
    `pt-*` mean pt-BR, `en-*` en, `pl-*` pl); `en` when nothing matches."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, index, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        primary = tag.split("-")[0]
        if primary == "pt":
            return "pt-BR"
        if primary in ("en", "pl"):
            return "en" if primary == "en" else "pl"
    return DEFAULT_LANGUAGE


@cache  # three languages; parsed once per container, not on every text of every view
def _locale(language: Language) -> Locale:
    return Locale.parse(_BABEL_LOCALE[language])


def plural_category(language: Language, count: int | float | Decimal) -> str:
    """CLDR's plural category of `count` in `language` (pl: one / few / many / other)."""
    return str(_locale(language).plural_form(count))


def number(language: Language, value: int | float | Decimal) -> str:
    return str(format_decimal(value, locale=_locale(language)))


def points(language: Language, count: int | float, label: PointsLabel) -> str:
    """ "350 Coins", "1 punkt", "5 punktów": the count in the locale's digits and the label."""
    category = plural_category(language, count)
    if label == SMILE_DEFAULT_LABEL:
        words = _POINT_WORDS[language]
        word = words.get(category, words["other"])
    else:
        word = label.one if category == "one" else label.other
    return f"{number(language, count)} {word}"


def money(language: Language, amount: Decimal | float | str, currency: str) -> str:
    """An amount in the locale's currency format; whole amounts without decimals ("$1",
    "1 USD", "US$ 1"), others with the currency's digits ("$2.50", "2,50 €")."""
    value = Decimal(str(amount))
    locale = _locale(language)
    if value == value.to_integral_value():
        pattern = locale.currency_formats["standard"].pattern
        whole = pattern.split(";")[0].replace(".00", "")
        return str(
            format_currency(value, currency, format=whole, locale=locale, currency_digits=False)
        )
    return str(format_currency(value, currency, locale=locale))


def message(language: Language, name: str, **values: str) -> str:
    return _MESSAGES[language][name].format(**values)
