"""The merchants' store contract, run on the DynamoDB adapter (the local stack's moto) and on the
in-memory fake the unit tests use (`tests/unit/test_merchants.py`)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from customer_hub.merchants.repository import DynamoMerchants, MemoryMerchants, MerchantStore


@pytest.fixture(params=["dynamodb", "memory"])
def merchants(request: pytest.FixtureRequest) -> MerchantStore:
    if request.param == "dynamodb":
        request.getfixturevalue("stack")
        return DynamoMerchants()
    return MemoryMerchants()


def _items(status: str = "not_launched") -> tuple[str, dict[str, Any], dict[str, Any]]:
    merchant_id = f"m_{uuid.uuid4().hex[:16]}"
    profile = {
        "pk": f"MERCHANT#{merchant_id}",
        "sk": "PROFILE",
        "merchant_id": merchant_id,
        "name": "Shop",
        "shop_domain": "shop.example.com",
        "timezone": "UTC",
        "currency": "USD",
        "hub_status": status,
        "launched_at": None,
        "cart_window_hours": 24,
        "created_at": "2026-11-23T12:00:00Z",
    }
    key = {"pk": f"APIKEY#{uuid.uuid4().hex}", "sk": "APIKEY", "merchant_id": merchant_id}
    return merchant_id, profile, key


def test_a_merchant_is_created_once_with_its_key(merchants: MerchantStore) -> None:
    merchant_id, profile, key = _items()

    assert merchants.create(profile, key, token=merchant_id)
    assert not merchants.create(profile, {**key, "pk": "APIKEY#other"}, token="another")
    assert not merchants.create({**profile, "pk": "MERCHANT#m_other"}, key, token="third")

    found = merchants.find(merchant_id, consistent=True)
    assert found == {k: v for k, v in profile.items() if k not in ("pk", "sk", "launched_at")}
    assert merchants.find(merchant_id) == found
    assert merchants.find("m_0000000000000000") is None


def test_settings_change_only_an_existing_profile(merchants: MerchantStore) -> None:
    merchant_id, profile, key = _items()
    merchants.create(profile, key, token=merchant_id)

    changed = merchants.change(merchant_id, {"timezone": "Europe/Warsaw", "cart_window_hours": 48})

    assert changed is not None
    assert (changed["timezone"], changed["cart_window_hours"]) == ("Europe/Warsaw", 48)
    assert merchants.find(merchant_id) == changed
    assert merchants.change("m_0000000000000000", {"timezone": "UTC"}) is None


def test_launching_sets_launched_at_once(merchants: MerchantStore) -> None:
    merchant_id, profile, key = _items()
    merchants.create(profile, key, token=merchant_id)

    first = merchants.change(
        merchant_id, {"hub_status": "live"}, launched_at="2026-11-24T00:00:00Z"
    )
    again = merchants.change(
        merchant_id, {"hub_status": "live"}, launched_at="2026-11-25T00:00:00Z"
    )

    assert first is not None and again is not None
    assert first["launched_at"] == again["launched_at"] == "2026-11-24T00:00:00Z"


def test_what_needs_a_launch_is_refused_before_it(merchants: MerchantStore) -> None:
    merchant_id, profile, key = _items()
    merchants.create(profile, key, token=merchant_id)

    assert merchants.change(merchant_id, {"hub_status": "disabled"}, require_launched=True) is None
    found = merchants.find(merchant_id)
    assert found is not None and found["hub_status"] == "not_launched"
    merchants.change(merchant_id, {"hub_status": "live"}, launched_at="2026-11-24T00:00:00Z")
    disabled = merchants.change(merchant_id, {"hub_status": "disabled"}, require_launched=True)
    assert disabled is not None and disabled["hub_status"] == "disabled"
