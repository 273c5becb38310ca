"""Lambda authorizer (HTTP API, simple responses): merchant API key → merchant id.

Every request is let through with `merchant_id` in the context (empty for a missing or
unknown key); the route handler answers 401 with a problem+json body. HTTP APIs cannot shape
their own 401/403 bodies, and API.md fixes problem+json for every error. Lookups are cached in
the warm container, so a warm authorizer makes no DynamoDB request.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from customer_hub.api_keys import merchant_id_for_api_key
from customer_hub.aws import is_transient
from customer_hub.identity import bearer_token, hash_api_key

logger = Logger()
_HIT_SECONDS = 300
_MISS_SECONDS = 10
_cache: dict[str, tuple[float, str]] = {}


def _lookup(api_key: str) -> str:
    digest = hash_api_key(api_key)
    cached = _cache.get(digest)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    merchant_id = merchant_id_for_api_key(api_key) or ""
    ttl = _HIT_SECONDS if merchant_id else _MISS_SECONDS
    _cache[digest] = (time.monotonic() + ttl, merchant_id)
    return merchant_id


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    api_key = bearer_token(headers.get("authorization"))
    try:
        merchant_id = _lookup(api_key) if api_key else ""
    except Exception as exc:
        if not is_transient(exc):
            raise
        # DynamoDB throttled: the route answers a retryable 503 instead of API Gateway's 500
        # (no authorizer caching is configured, so this answer is not remembered).
        logger.warning("API key lookup throttled", extra={"route": event.get("routeKey")})
        return {"isAuthorized": True, "context": {"merchant_id": "", "unavailable": "storage"}}
    if not merchant_id:
        logger.info(
            "request without a valid merchant API key", extra={"route": event.get("routeKey")}
        )
    return {"isAuthorized": True, "context": {"merchant_id": merchant_id}}
