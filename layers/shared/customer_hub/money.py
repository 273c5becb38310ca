"""Money: integer minor units inside, `{"amount": "52.10", "currency": "USD"}` outside."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TypedDict

# ISO 4217 currencies whose minor unit is not 2 digits.
_EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


class MoneyJSON(TypedDict):
    amount: str
    currency: str


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor(amount: str | int | float | Decimal, currency: str) -> int:
    """A decimal amount ("52.10") in minor units (5210), rounded half-even."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    scaled = value.scaleb(exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return int(scaled)


def to_json(minor: int, currency: str) -> MoneyJSON:
    digits = exponent(currency)
    amount = Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))
    return {"amount": str(amount), "currency": currency.upper()}
