"""POST /v1/shops/{merchant_id}/hub/rewards/{points_product_id}/redeem — points for a coupon."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response

from customer_hub import redemption
from customer_hub.http import json_response, make_app
from customer_hub.idempotency import check_key
from customer_hub.storefront import (
    parse_body,
    request_header,
    required_shopper,
    storefront_merchant,
    storefront_route,
)

logger = Logger()
app = make_app()


@app.post("/v1/shops/<merchant_id>/hub/rewards/<points_product_id>/redeem")
def redeem_reward(merchant_id: str, points_product_id: str) -> Response[str]:
    merchant = storefront_merchant(merchant_id)
    shopper = required_shopper(merchant)
    key = check_key(request_header("idempotency-key"))
    body = parse_body(redemption.RedeemBody)
    result, replayed = redemption.redeem(merchant, shopper, points_product_id, body, key)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return json_response(201, result, headers)


handler = storefront_route(app, logger)
