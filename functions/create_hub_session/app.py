"""POST /v1/shops/{merchant_id}/hub/session — a theme-signed customer for a customer token."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response

from customer_hub.edge.http import make_app
from customer_hub.edge.storefront import (
    current_shopper,
    parse_body,
    storefront_merchant,
    storefront_route,
)
from customer_hub.schemas.session import CustomerSession
from customer_hub.shopify import theme_sessions

logger = Logger()
app = make_app()

# The body is read from this invocation's own event (`customer_hub.edge.storefront`); the document
# still describes it.
_DOCUMENTED = {
    "description": "Exchanges what the theme snippet rendered (web/shopify/) for a customer "
    "token. A wrong signature, another merchant's secret or `issued_at` more than 24 hours old "
    "or 5 minutes ahead is 401; a malformed field is 422. Never cached (`no-store`).",
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": theme_sessions.SessionRequest.model_json_schema()}
        },
    },
}


@app.post("/v1/shops/<merchant_id>/hub/session", openapi_extensions=_DOCUMENTED)
def create_hub_session(merchant_id: str) -> Response[CustomerSession]:
    merchant = storefront_merchant(merchant_id)
    current_shopper(merchant)  # a customer token sent along must be valid, as on every route
    request = parse_body(theme_sessions.SessionRequest)
    session = theme_sessions.exchange(merchant, request)
    return Response(
        status_code=200,
        content_type="application/json",
        body=CustomerSession.model_validate(session),
        headers={"Cache-Control": "no-store"},
    )


handler = storefront_route(app, logger)
