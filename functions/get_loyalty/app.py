"""GET /v1/shops/{merchant_id}/hub/loyalty — the loyalty component of the "For you" tab."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from customer_hub.edge.http import make_app
from customer_hub.edge.storefront import (
    current_shopper,
    request_language,
    storefront_merchant,
    storefront_route,
)
from customer_hub.schemas.loyalty import Loyalty
from customer_hub.shoppers import reads as shoppers

logger = Logger()
app = make_app()


@app.get("/v1/shops/<merchant_id>/hub/loyalty")
def get_loyalty(merchant_id: str) -> Loyalty:
    merchant = storefront_merchant(merchant_id)
    data = shoppers.load(merchant, current_shopper(merchant))
    return Loyalty.model_validate(
        {**shoppers.loyalty_body(data, request_language()), "hub_status": merchant.hub_status}
    )


handler = storefront_route(app, logger)
