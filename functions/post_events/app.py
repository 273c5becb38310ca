"""POST /v1/shops/{merchant_id}/hub/events — record a shopper's hub interactions (batch)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body

from customer_hub.edge.http import make_app
from customer_hub.edge.storefront import admitted, request_header, storefront_route
from customer_hub.identity import bearer_token
from customer_hub.merchants.profiles import Merchant, get_merchant
from customer_hub.metrics.event_intake import (
    EventBatch,
    Shopper,
    accept,
    in_time_window,
    shopper_from_token,
)
from customer_hub.schemas.events import EventsAccepted

logger = Logger()
app = make_app()


def _before_body(merchant_id: str) -> tuple[Merchant, Shopper]:
    """404 unknown merchant, 401 without a valid customer token: before the body is validated."""
    merchant = get_merchant(merchant_id)
    token = bearer_token(request_header("authorization"))
    return merchant, shopper_from_token(token, merchant_id)


@app.post("/v1/shops/<merchant_id>/hub/events", status_code=202)
def post_events(
    merchant_id: str, batch: Annotated[EventBatch, Body(embed=False)]
) -> EventsAccepted:
    merchant, shopper = admitted()
    return EventsAccepted.model_validate(accept(merchant, shopper, in_time_window(batch)))


# CORS for the shop's origin on every answer; the body is required (no body is a 422).
handler = storefront_route(app, logger, before_body=_before_body)
