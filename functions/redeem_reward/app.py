"""POST /v1/shops/{merchant_id}/hub/rewards/{points_product_id}/redeem — points for a coupon."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from customer_hub.edge.http import make_app
from customer_hub.edge.storefront import (
    admitted,
    request_header,
    required_shopper,
    storefront_merchant,
    storefront_route,
)
from customer_hub.identity import Customer
from customer_hub.infra import observability
from customer_hub.merchants.profiles import Merchant
from customer_hub.problems import Problem
from customer_hub.redemption import protocol as redemption
from customer_hub.redemption.idempotency import check_key
from customer_hub.schemas.coupons import Redeemed

logger = Logger()
app = make_app()


def _before_body(merchant_id: str) -> tuple[Merchant, Customer, str]:
    """404 unknown shop, 401 without a valid customer token, 422 without a valid
    `Idempotency-Key`: checked before the body is validated."""
    merchant = storefront_merchant(merchant_id)
    shopper = required_shopper(merchant)
    return merchant, shopper, check_key(request_header("idempotency-key"))


@app.post(
    "/v1/shops/<merchant_id>/hub/rewards/<points_product_id>/redeem",
    status_code=201,
    description="Header `Idempotency-Key` (1-255 printable ASCII characters) is required: "
    "the same key and body replay the first 201 (`Idempotent-Replayed: true`), another body is "
    "422 `idempotency-key-reused`, a request still in flight is 409 `idempotency-key-in-use`. "
    "When Smile's answer to the purchase is lost and the hub cannot tell yet whether Smile "
    "spent the points: 503 `redemption-unconfirmed` with `Retry-After`, the points stay held; "
    "retry with the same key (it never buys twice).",
)
def redeem_reward(
    merchant_id: str,
    points_product_id: str,
    body: Annotated[redemption.RedeemBody, Body(embed=False)],
) -> Response[Redeemed]:
    merchant, shopper, key = admitted()
    try:
        result, replayed = redemption.redeem(merchant, shopper, points_product_id, body, key)
    except Problem as problem:  # insufficient-points, smile-unavailable, ...
        observability.count("Redemptions", Outcome=problem.slug)
        raise
    except Exception:
        observability.count("Redemptions", Outcome="error")
        raise
    observability.count("Redemptions", Outcome="replayed" if replayed else "redeemed")
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return Response(
        status_code=201,
        content_type="application/json",
        body=Redeemed.model_validate(result),
        headers=headers,
    )


# No body stands for `{}` (a fixed reward).
handler = storefront_route(app, logger, before_body=_before_body, absent_body="{}")
