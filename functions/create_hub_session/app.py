"""POST /v1/shops/{merchant_id}/hub/session — a theme-signed customer for a customer token."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from customer_hub.edge.http import make_app
from customer_hub.edge.storefront import (
    admitted,
    current_shopper,
    storefront_merchant,
    storefront_route,
)
from customer_hub.merchants.profiles import Merchant
from customer_hub.schemas.session import CustomerSession
from customer_hub.shopify import theme_sessions

logger = Logger()
app = make_app()


def _before_body(merchant_id: str) -> Merchant:
    """404 unknown shop; a customer token sent along must be valid (401), as on every route:
    both checked before the body is validated."""
    merchant = storefront_merchant(merchant_id)
    current_shopper(merchant)
    return merchant


@app.post(
    "/v1/shops/<merchant_id>/hub/session",
    description="Exchanges what the theme snippet rendered (web/shopify/) for a customer "
    "token. A wrong signature, another merchant's secret or `issued_at` more than 24 hours old "
    "or 5 minutes ahead is 401; a malformed field is 422. Never cached (`no-store`).",
)
def create_hub_session(
    merchant_id: str,
    request: Annotated[theme_sessions.SessionRequest, Body(embed=False)],
) -> Response[CustomerSession]:
    merchant: Merchant = admitted()
    session = theme_sessions.exchange(merchant, request)
    return Response(
        status_code=200,
        content_type="application/json",
        body=CustomerSession.model_validate(session),
        headers={"Cache-Control": "no-store"},
    )


# No body stands for `{}` (each missing field is located, as for `{}`).
handler = storefront_route(app, logger, before_body=_before_body, absent_body="{}")
