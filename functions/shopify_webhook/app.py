"""POST /v1/webhooks/shopify/{merchant_id} — orders/create and customers/create from Shopify."""

from __future__ import annotations

import base64
import hashlib
import json

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response

from customer_hub import shopify
from customer_hub.http import json_response, make_app, public_route
from customer_hub.merchants import get_merchant
from customer_hub.problems import Unauthorized, ValidationProblem
from customer_hub.schemas.admin import WebhookReceipt
from customer_hub.secrets import merchant_credentials

logger = Logger()
app = make_app(enable_validation=False)


def _raw_body() -> bytes:
    """The bytes Shopify signed: API Gateway may hand them over base64-encoded."""
    event = app.current_event.raw_event
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode("utf-8")


def _receipt(status: str) -> Response[str]:
    """The documented body (validated here: this route reads its raw body, without Powertools'
    validation)."""
    return json_response(200, WebhookReceipt.model_validate({"status": status}).model_dump())


@app.post(
    "/v1/webhooks/shopify/<merchant_id>",
    responses={
        200: {"description": "OK", "content": {"application/json": {"model": WebhookReceipt}}}
    },
)
def shopify_webhook(merchant_id: str) -> Response[str]:
    merchant = get_merchant(merchant_id)
    headers = app.current_event.headers
    raw = _raw_body()
    credentials = merchant_credentials(merchant_id)
    secret = credentials.webhook_secret.get_secret_value() if credentials else ""
    if not secret or not shopify.signature_valid(raw, secret, headers.get("x-shopify-hmac-sha256")):
        raise Unauthorized("The webhook signature (X-Shopify-Hmac-Sha256) does not match.")
    topic = str(headers.get("x-shopify-topic", ""))
    if merchant.hub_status != "live" or topic not in ("orders/create", "customers/create"):
        logger.info("webhook ignored", extra={"topic": topic, "hub_status": merchant.hub_status})
        return _receipt("ignored")
    webhook_id = headers.get("x-shopify-webhook-id") or hashlib.sha256(raw).hexdigest()
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ValidationProblem("The webhook body is not JSON.") from exc
    try:
        outcome = shopify.receive(merchant_id, topic, str(webhook_id), body)
    except ValueError as exc:
        raise ValidationProblem(f"The {topic} body is not what Shopify sends: {exc}") from exc
    return _receipt(outcome)


handler = public_route(app, logger)
