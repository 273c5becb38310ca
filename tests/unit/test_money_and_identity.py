from __future__ import annotations

import pytest

from customer_hub import identity, money


@pytest.mark.parametrize(
    ("amount", "currency", "minor", "text"),
    [
        ("52.10", "USD", 5210, "52.10"),
        ("0.005", "USD", 0, "0.00"),
        ("0.015", "USD", 2, "0.02"),
        ("1000", "JPY", 1000, "1000"),
        ("1.234", "KWD", 1234, "1.234"),
        ("294.00", "HKD", 29400, "294.00"),
    ],
)
def test_money_round_trip(amount: str, currency: str, minor: int, text: str) -> None:
    assert money.to_minor(amount, currency) == minor
    assert money.to_json(minor, currency) == {"amount": text, "currency": currency}


def test_money_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not an amount"):
        money.to_minor("12,50", "EUR")


def test_api_keys_are_random_and_hashed() -> None:
    first, second = identity.new_api_key(), identity.new_api_key()
    assert first != second and first.startswith("chk_") and len(first) > 40
    digest = identity.hash_api_key(first)
    assert len(digest) == 64 and first not in digest
    assert identity.hash_api_key(first) == digest


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert identity.bearer_token(header) == token
