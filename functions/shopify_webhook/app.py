"""POST /v1/webhooks/shopify/{merchant_id} — orders/create and customers/create from Shopify.

Signed with the secret Shopify uses for this shop (customer_hub.merchants.webhook_secrets) and
sent for the merchant's own shop (`X-Shopify-Shop-Domain`), else 401 and nothing stored; the topic
header decides what the body must be (422 when it is not)."""

from __future__ import annotations

import base64
import hashlib
import json

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response

from customer_hub.edge.http import json_response, make_app, public_route
from customer_hub.merchants.profiles import get_merchant
from customer_hub.merchants.webhook_secrets import webhook_secret
from customer_hub.problems import Unauthorized, ValidationProblem
from customer_hub.schemas.admin import WebhookReceipt
from customer_hub.shopify import webhooks as shopify

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
    secret = webhook_secret(merchant_id)
    if not secret or not shopify.signature_valid(raw, secret, headers.get("x-shopify-hmac-sha256")):
        raise Unauthorized("The webhook signature (X-Shopify-Hmac-Sha256) does not match.")
    shop = str(headers.get("x-shopify-shop-domain") or "").strip().lower()
    if shop != merchant.shop_domain:
        logger.warning("webhook for another shop refused", extra={"shop_domain": shop[:253]})
        raise Unauthorized("X-Shopify-Shop-Domain is not this merchant's shop_domain.")
    topic = str(headers.get("x-shopify-topic", ""))
    if topic not in shopify.TOPICS:
        logger.info("webhook ignored", extra={"topic": topic[:100]})
        return _receipt("ignored")
    try:
        item = shopify.parse(merchant_id, topic, json.loads(raw))
    except ValueError as exc:  # not JSON, or not what Shopify sends for this topic
        raise ValidationProblem(f"The body is not a {topic} webhook as Shopify sends it.") from exc
    if merchant.hub_status != "live":
        logger.info("webhook ignored", extra={"topic": topic, "hub_status": merchant.hub_status})
        return _receipt("ignored")
    webhook_id = headers.get("x-shopify-webhook-id") or hashlib.sha256(raw).hexdigest()
    return _receipt(shopify.store_once(merchant_id, str(webhook_id), item))


handler = public_route(app, logger)
