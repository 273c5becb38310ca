"""POST /v1/shops/{merchant_id}/hub/events — record a shopper's hub interactions (batch)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from customer_hub.edge.http import make_app
from customer_hub.edge.storefront import storefront_route
from customer_hub.identity import bearer_token
from customer_hub.merchants.profiles import get_merchant
from customer_hub.metrics.event_intake import accept, parse_batch, shopper_from_token
from customer_hub.schemas.events import EventsAccepted

logger = Logger()
app = make_app()


@app.post("/v1/shops/<merchant_id>/hub/events", status_code=202)
def post_events(merchant_id: str) -> EventsAccepted:
    merchant = get_merchant(merchant_id)
    shopper = shopper_from_token(
        bearer_token(app.current_event.headers.get("authorization")), merchant_id
    )
    batch = parse_batch(app.current_event.json_body)
    return EventsAccepted.model_validate(accept(merchant, shopper, batch))


handler = storefront_route(app, logger)  # CORS for the shop's origin on every answer
