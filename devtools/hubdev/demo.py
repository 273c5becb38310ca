"""Demo data for `hub dev`: a live demo merchant (more is layered on by the features)."""

from __future__ import annotations

from typing import Any

from customer_hub.merchants.profiles import (
    NewMerchant,
    SettingsPatch,
    create_merchant,
    update_settings,
)
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
    seed_hub_traffic(created.merchant_id)
    stack.drain()
    return {**created.model_dump(), "shop_domain": DEMO_MERCHANT.shop_domain}


# ---------------- hub events, orders and accounts (metric roll-ups)
def seed_hub_traffic(merchant_id: str, days: int = 14) -> None:
    """Two weeks of generated shopper traffic, stored as the API would; roll-ups follow."""
    from datetime import timedelta

    from customer_hub.infra import clock
    from customer_hub.metrics.hub_events import HubEvent, record
    from customer_hub.shopify import webhooks as shopify
    from hubdev.traffic import generate

    start = clock.now() - timedelta(days=days)
    traffic = generate(seed=7, start=start, days=days, shoppers=12, sessions_per_day=2.5)
    for delivery in traffic.deliveries:
        if delivery.at > clock.now():
            continue
        if delivery.shopper is None:
            shopify.receive(merchant_id, delivery.topic, delivery.webhook_id, delivery.body)
            continue
        for event in delivery.events:
            record(
                merchant_id,
                HubEvent(
                    event_id=event["id"],
                    type=event["type"],
                    occurred_at=event["occurred_at"],
                    customer_id=delivery.shopper.customer_id,
                    email=delivery.shopper.email,
                    product_id=event.get("product_id"),
                    coupon_code=event.get("coupon_code"),
                ),
            )
