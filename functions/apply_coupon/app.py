"""POST /v1/shops/{merchant_id}/hub/coupons/{coupon_id}/apply — apply an available coupon."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from customer_hub.edge.http import make_app
from customer_hub.edge.storefront import (
    reject_body_fields,
    required_shopper,
    storefront_merchant,
    storefront_route,
)
from customer_hub.schemas.coupons import AppliedCoupon
from customer_hub.shoppers import coupons
from customer_hub.shoppers import reads as shoppers

logger = Logger()
app = make_app()


@app.post("/v1/shops/<merchant_id>/hub/coupons/<coupon_id>/apply")
def apply_coupon(merchant_id: str, coupon_id: str) -> AppliedCoupon:
    merchant = storefront_merchant(merchant_id)
    shopper = required_shopper(merchant)
    reject_body_fields()
    data = shoppers.load(merchant, shopper, need_program=False)
    return AppliedCoupon.model_validate(
        coupons.apply(data.merchant, shopper, data.coupons, coupon_id)
    )


handler = storefront_route(app, logger)
