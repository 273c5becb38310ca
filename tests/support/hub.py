"""Helpers for hub-event and webhook tests: customer tokens, signed Shopify deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt

from customer_hub.merchants.profiles import CreatedMerchant, get_merchant
from tests.support.api import InProcessApi, Reply


def customer_token(
    merchant: CreatedMerchant,
    customer_id: str = "7001",
    email: str = "shopper@example.com",
    *,
    lifetime: int = 3600,
    secret: str | None = None,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "iss": merchant.merchant_id,
        "sub": customer_id,
        "email": email,
        "iat": now,
        "exp": now + lifetime,
        **claims,
    }
    return jwt.encode(payload, secret or merchant.customer_token_secret, algorithm="HS256")


def launch(api: InProcessApi, merchant: CreatedMerchant, status: str = "live") -> None:
    reply = api.patch(
        "/v1/admin/settings", json_body={"hub_status": status}, api_key=merchant.api_key
    )
    assert reply.status == 200, reply.body


def post_events(
    api: InProcessApi, merchant: CreatedMerchant, events: list[dict[str, Any]], **token: Any
) -> Reply:
    return api.post(
        f"/v1/shops/{merchant.merchant_id}/hub/events",
        json_body={"events": events},
        token=customer_token(merchant, **token),
    )


def shopify_signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def send_webhook(
    api: InProcessApi,
    merchant: CreatedMerchant,
    topic: str,
    body: bytes | dict[str, Any],
    *,
    webhook_id: str | None = None,
    secret: str | None = None,
    content_type: str = "application/json",
    shop_domain: str | None = None,
) -> Reply:
    """A delivery as Shopify sends it: signed, for the merchant's own shop (unless told)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    shop = shop_domain or get_merchant(merchant.merchant_id).shop_domain
    headers = {
        "content-type": content_type,
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": shopify_signature(raw, secret or merchant.webhook_secret),
        "x-shopify-webhook-id": webhook_id or str(uuid.uuid4()),
        "x-shopify-shop-domain": shop,
    }
    return api.post(f"/v1/webhooks/shopify/{merchant.merchant_id}", body=raw, headers=headers)
