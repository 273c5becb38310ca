"""Lambda authorizer (HTTP API, simple responses): merchant API key → merchant id.

Every request is let through with `merchant_id` in the context (empty for a missing or
unknown key); the route handler answers 401 with a problem+json body (503 when the key could
not be looked up: DynamoDB throttled, or the function deployed without its configuration).
HTTP APIs cannot shape their own 401/403 bodies, and API.md fixes problem+json for every error.
Lookups are cached in the warm container, so a warm authorizer makes no DynamoDB request.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from customer_hub.identity import bearer_token, hash_api_key
from customer_hub.infra import clock
from customer_hub.infra.aws import is_transient
from customer_hub.infra.config import MissingConfiguration, checked_at_cold_start
from customer_hub.infra.lru import ExpiringLru, Missing
from customer_hub.merchants.api_keys import api_key_grant

logger = Logger()
# A found key is cached for less than a rotated key's overlap (10 minutes), so a key cached as
# current before its rotation is looked up again, with its end, before that end.
_HIT_SECONDS = 300
_MISS_SECONDS = 10
CACHE_ENTRIES = 4096  # keys per warm container; least recently used go first
MAX_KEY_LENGTH = 256  # keys are `chk_` + 43 characters; longer ones are not looked up
# SHA-256 of the key → (merchant id or "", Unix time a rotated key stops working or None)
# Expiry on the project's clock (`customer_hub.infra.clock`), like the keys' validity: a test that
# moves time past a rotated key's end sees the warm cache expire as it would.
_cache: ExpiringLru[str, tuple[str, float | None]] = ExpiringLru(
    CACHE_ENTRIES, clock=lambda: clock.now().timestamp()
)


def _lookup(api_key: str) -> str:
    if len(api_key) > MAX_KEY_LENGTH or not api_key.isascii():
        return ""
    digest = hash_api_key(api_key)
    cached = _cache.get(digest)
    if isinstance(cached, Missing):
        grant = api_key_grant(api_key)
        cached = grant or ("", None)
        _cache.put(digest, cached, _HIT_SECONDS if grant else _MISS_SECONDS)
    merchant_id, valid_until = cached
    if valid_until is not None and clock.now().timestamp() >= valid_until:
        return ""  # a rotated key past its overlap
    return merchant_id


def _unavailable(_exc: MissingConfiguration) -> dict[str, Any]:
    """A function deployed without its configuration (logged as critical, naming the variable):
    every request is let through with no merchant and the route answers 503, as when the
    lookup is throttled, never API Gateway's bare 500."""
    return {"isAuthorized": True, "context": {"merchant_id": "", "unavailable": "configuration"}}


@logger.inject_lambda_context
@checked_at_cold_start(refuse=_unavailable)
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
