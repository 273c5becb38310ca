"""GET /v1/shops/{merchant_id}/hub/rewards — the Rewards page."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from customer_hub.edge.http import make_app
from customer_hub.edge.storefront import (
    request_language,
    required_shopper,
    storefront_merchant,
    storefront_route,
)
from customer_hub.schemas.loyalty import Rewards
from customer_hub.shoppers import reads as shoppers

logger = Logger()
app = make_app()


@app.get("/v1/shops/<merchant_id>/hub/rewards")
def get_rewards(merchant_id: str) -> Rewards:
    merchant = storefront_merchant(merchant_id)
    data = shoppers.load(merchant, required_shopper(merchant))
    return Rewards.model_validate(shoppers.rewards_body(data, request_language()))


handler = storefront_route(app, logger)
