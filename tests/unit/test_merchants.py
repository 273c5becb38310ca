"""Merchant creation and the hub status lifecycle (`customer_hub.merchants.profiles`) on the
in-memory store (milliseconds)."""

from __future__ import annotations

import pytest

from customer_hub.merchants import profiles
from customer_hub.merchants.profiles import NewMerchant, SettingsPatch
from customer_hub.merchants.repository import MemoryMerchants
from customer_hub.problems import Conflict, NotFound


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> MemoryMerchants:
    store = MemoryMerchants()
    monkeypatch.setattr(profiles, "store", store)
    monkeypatch.setattr(profiles, "create_secret", lambda *_args, **_kwargs: None)
    return store


def test_the_hub_status_lifecycle_on_the_fake(fake: MemoryMerchants) -> None:
    created = profiles.create_merchant(
        NewMerchant(name="Shop", shop_domain="shop.example.com", timezone="UTC", currency="USD")
    )
    merchant_id = created.merchant_id

    with pytest.raises(Conflict):
        profiles.update_settings(merchant_id, SettingsPatch(hub_status="disabled"))
    live = profiles.update_settings(merchant_id, SettingsPatch(hub_status="live"))
    assert live.hub_status == "live" and live.launched_at is not None
    assert profiles.update_settings(merchant_id, SettingsPatch()).hub_status == "live"
    disabled = profiles.update_settings(merchant_id, SettingsPatch(hub_status="disabled"))
    assert disabled.hub_status == "disabled" and disabled.launched_at == live.launched_at
    with pytest.raises(NotFound):
        profiles.update_settings("m_0000000000000000", SettingsPatch(cart_window_hours=2))


def test_settings_change_what_the_patch_names_and_nothing_else(fake: MemoryMerchants) -> None:
    created = profiles.create_merchant(
        NewMerchant(name="Shop", shop_domain="shop.example.com", timezone="UTC", currency="USD")
    )
    patch = SettingsPatch(
        timezone="Europe/Warsaw",
        cart_window_hours=48,
        storefront_origins=["https://www.example.com"],
    )

    changed = profiles.update_settings(created.merchant_id, patch)

    assert (changed.timezone, changed.cart_window_hours) == ("Europe/Warsaw", 48)
    assert changed.allowed_origins == ["https://www.example.com"]
    assert (changed.shop_domain, changed.hub_status) == ("shop.example.com", "not_launched")
    assert profiles.find_merchant(created.merchant_id) == changed
