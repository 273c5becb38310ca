"""The storefront edge: the merchant of the path, the shopper's token, CORS for the shop's origins.

Storefront routes live under `/v1/shops/{merchant_id}/hub/...` without the merchant authorizer.
The HTTP API has no API-level CORS configuration on purpose: only each merchant's own
storefront origins (settings `storefront_origins`, default `https://<shop_domain>`) may call
its routes, which a static list cannot express, so the functions send the CORS headers (and
`storefront_preflight` answers OPTIONS).

Request bodies are `Body()` models (redeem, session, events), validated by Powertools after the
route's `before_body` checks (see `storefront_route`). `POST /coupons/{id}/apply` has no body and
keeps `reject_body_fields` (none or `{}`; the first unknown field is a 422 `unknown field`): a
`Body()` there would document a request body the route does not take, and pydantic would report
every unknown field with its own message instead.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from customer_hub.edge import invocation
from customer_hub.edge.http import public_route
from customer_hub.edge.request_checks import NOT_AN_OBJECT, is_merchant_id, object_body
from customer_hub.identity import (
    Customer,
    InvalidCustomerToken,
    bearer_token,
)
from customer_hub.infra.lru import ExpiringLru, Missing
from customer_hub.loyalty.texts import Language, negotiate
from customer_hub.merchants.profiles import Merchant, find_merchant
from customer_hub.merchants.shopper_tokens import verify_shopper_token
from customer_hub.problems import NotFound, Unauthorized, validation_error

PROFILE_CACHE_SECONDS = 60
UNKNOWN_CACHE_SECONDS = 10  # an unknown merchant id (a shop created a moment later shows soon)
ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "authorization, content-type, idempotency-key"
EXPOSED_HEADERS = "idempotent-replayed, retry-after"
PREFLIGHT_MAX_AGE = "600"

logger = Logger()

PROFILE_CACHE_ENTRIES = 2048  # merchants per warm container; least recently used go first
_profiles: ExpiringLru[str, Merchant | None] = ExpiringLru(PROFILE_CACHE_ENTRIES)


def merchant_profile(merchant_id: str) -> Merchant | None:
    """The merchant's profile, cached in the warm container for a minute (shop domain,
    currency, cart window change rarely; a storefront read must stay within 2 requests)."""
    cached = _profiles.get(merchant_id)
    if not isinstance(cached, Missing):
        return cached
    merchant = find_merchant(merchant_id)
    ttl = PROFILE_CACHE_SECONDS if merchant is not None else UNKNOWN_CACHE_SECONDS
    _profiles.put(merchant_id, merchant, ttl)
    return merchant


def forget_profiles() -> None:
    _profiles.clear()


def storefront_merchant(merchant_id: str) -> Merchant:
    merchant = merchant_profile(merchant_id)
    if merchant is None:
        raise NotFound("No such shop.")
    return merchant


def allowed_origin(merchant: Merchant, origin: str) -> str | None:
    """The request's Origin when it is one of the merchant's storefront origins, else None."""
    wanted = origin.strip().rstrip("/").lower()
    return wanted if wanted in merchant.allowed_origins else None


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def cors_headers(event: dict[str, Any]) -> dict[str, str]:
    """CORS response headers when the request's Origin is one of the merchant's storefront
    origins (answered back exactly, never `*`)."""
    origin = _header(event, "origin")
    merchant_id = (event.get("pathParameters") or {}).get("merchant_id")
    if not origin or not is_merchant_id(merchant_id):
        return {}
    merchant = merchant_profile(str(merchant_id))
    allowed = allowed_origin(merchant, origin) if merchant is not None else None
    if allowed is None:
        return {}
    return {
        "Access-Control-Allow-Origin": allowed,
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
        "Vary": "Origin",
    }


def preflight_headers(event: dict[str, Any]) -> dict[str, str] | None:
    """The preflight answer's headers, or None when the origin is not the merchant's shop."""
    headers = cors_headers(event)
    if not headers:
        return None
    return {
        **headers,
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
    }


def _storefront_headers(response: dict[str, Any]) -> dict[str, Any]:
    """The shop's CORS and the language headers added to an answer of this invocation's
    request, whether the resolver or `checked_request` gave it."""
    response["headers"] = with_vary_origin(
        {
            **(response.get("headers") or {}),
            **cors_headers(request_event()),
            **language_headers(),
        }
    )
    return response


def storefront_route(
    app: APIGatewayHttpResolver,
    logger: Logger,
    *,
    needs: tuple[str, ...] = (),
    before_body: Callable[[str], Any] | None = None,
    absent_body: str | None = None,
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """A public route whose every response (errors included) carries the shop's CORS headers,
    and `Vary: Origin` whatever the origin (the answer depends on it).

    A route with a `Body()` gives `before_body`: its checks that API.md orders before the body
    (404 unknown shop, 401 customer token, the idempotency key), called with the path's
    `merchant_id` before Powertools validates the body (which it does before any route code);
    the route reads what it returned with `admitted()`. Its body must then be a JSON object;
    `absent_body` is what a request without one means (`"{}"`; None: a 422).
    """
    prepare = None
    if before_body is not None:
        check = before_body

        def prepare(request: dict[str, Any]) -> dict[str, Any]:
            current = invocation.current()
            admitted = check(path_parameter("merchant_id"))
            if current is not None:
                current.admitted = admitted
            return object_body(request, absent_body)

    return public_route(app, logger, needs=needs, prepare=prepare, finish=_storefront_headers)


def admitted() -> Any:
    """What this invocation's `before_body` returned (the merchant, shopper, key it checked)."""
    current = invocation.current()
    return current.admitted if current is not None else None


def request_language() -> Language:
    """The language of the texts this request's answer builds (its `Accept-Language`)."""
    return negotiate(request_header("accept-language"))


def language_headers() -> dict[str, str]:
    """`Content-Language` of the answer; it varies on `Accept-Language` (API.md §Conventions)."""
    return {"Content-Language": request_language(), "Vary": "Accept-Language"}


def with_vary_origin(headers: dict[str, str]) -> dict[str, str]:
    """`headers` with one `Vary` that names Origin besides what the response already varies on."""
    varies = [
        part.strip()
        for key, value in headers.items()
        if key.lower() == "vary"
        for part in str(value).split(",")
        if part.strip()
    ]
    if "origin" not in (part.lower() for part in varies):
        varies.append("Origin")
    rest = {key: value for key, value in headers.items() if key.lower() != "vary"}
    return {**rest, "Vary": ", ".join(dict.fromkeys(varies))}


def request_event() -> dict[str, Any]:
    """This invocation's raw event, as API Gateway sent it (`customer_hub.edge.invocation`)."""
    return invocation.raw_event()


def request_header(name: str) -> str | None:
    return _header(request_event(), name.lower())


def path_parameter(name: str) -> str:
    return str((request_event().get("pathParameters") or {}).get(name) or "")


def current_shopper(merchant: Merchant) -> Customer | None:
    """The shopper of the request's customer token; None without one (anonymous).

    A token that is present but invalid is always a 401, on every route.
    """
    authorization = request_header("authorization")
    if authorization is None:
        return None
    token = bearer_token(authorization)
    if token is None:
        raise Unauthorized("The customer token must be sent as Authorization: Bearer <token>.")
    try:
        return verify_shopper_token(token, merchant.merchant_id)
    except InvalidCustomerToken as exc:
        logger.info("customer token refused", extra={"reason": str(exc)})
        raise Unauthorized("The customer token is invalid or expired.") from exc


def required_shopper(merchant: Merchant) -> Customer:
    shopper = current_shopper(merchant)
    if shopper is None:
        raise Unauthorized("Log in: this route needs a customer token (Authorization: Bearer).")
    return shopper


def _json_object() -> dict[str, Any]:
    event = request_event()
    raw = event.get("body") or ""
    body = base64.b64decode(raw).decode("utf-8", "replace") if event.get("isBase64Encoded") else raw
    if not body or not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise validation_error(["body"], NOT_AN_OBJECT) from exc
    if not isinstance(parsed, dict):
        raise validation_error(["body"], NOT_AN_OBJECT)
    return parsed


def reject_body_fields() -> None:
    """Routes without a body accept none or `{}`; anything else is a 422 at its first field
    (API.md).

    Not a `Body()`: the route has no body, and a model parameter would document one in the
    OpenAPI document and report every unknown field with pydantic's message instead of the
    first as `unknown field`.
    """
    for name in _json_object():
        raise validation_error(["body", name], "unknown field")
