"""Demo data for `hub dev`: a live demo merchant (more is layered on by the features)."""

from __future__ import annotations

from typing import Any

from customer_hub.merchants import NewMerchant, SettingsPatch, create_merchant, update_settings
from hubdev.stack import LocalStack

DEMO_MERCHANT = NewMerchant(
    name="Demo Outfitters",
    shop_domain="demo-outfitters.myshopify.com",
    timezone="Europe/Warsaw",
    currency="USD",
)


def seed(stack: LocalStack) -> dict[str, Any]:
    """Create the demo merchant, launch its hub, and return what the ready line shows."""
    created = create_merchant(DEMO_MERCHANT)
    update_settings(created.merchant_id, SettingsPatch(hub_status="live"))
    stack.drain()
    return {**created.model_dump(), "shop_domain": DEMO_MERCHANT.shop_domain}
