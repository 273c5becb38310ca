"""GET /v1/shops/{merchant_id}/hub/coupons — the Coupons page (not-member shoppers too)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from customer_hub.edge.http import make_app
from customer_hub.edge.storefront import required_shopper, storefront_merchant, storefront_route
from customer_hub.schemas.coupons import Coupons
from customer_hub.shoppers import reads as shoppers

logger = Logger()
app = make_app()


@app.get("/v1/shops/<merchant_id>/hub/coupons")
def get_coupons(merchant_id: str) -> Coupons:
    merchant = storefront_merchant(merchant_id)
    data = shoppers.load(merchant, required_shopper(merchant), need_program=False)
    return Coupons.model_validate(shoppers.coupons_body(data))


handler = storefront_route(app, logger)
