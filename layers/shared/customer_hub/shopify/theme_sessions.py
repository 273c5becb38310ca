"""Liquid-signed sessions: a Shopify theme, which cannot mint a JWT, signs the logged-in
customer with Liquid's `hmac_sha256` (web/shopify/), and the storefront component exchanges
that signature for a customer token here (API.md §Identity, SPEC §9)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from customer_hub import identity
from customer_hub.infra import clock
from customer_hub.infra.secrets import CACHE_SECONDS, merchant_credentials
from customer_hub.merchants.profiles import Merchant
from customer_hub.merchants.shopper_tokens import REREAD_AFTER_SECONDS
from customer_hub.problems import Unauthorized

logger = Logger()


class SessionRequest(BaseModel):
    """What the theme rendered for the logged-in customer (web/shopify/customer-hub.liquid)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(pattern=r"^[0-9]{1,20}$", description="Shopify customer id")
    email: str = Field(
        min_length=3,
        max_length=320,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="the customer's account email, exactly as the theme signed it",
    )
    issued_at: StrictInt = Field(ge=0, lt=10**11, description="Unix seconds, when rendered")
    signature: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="lowercase hex HMAC-SHA256 of "
        "`customer-hub-session:v1:<merchant_id>:<customer_id>:<issued_at>:<email>`, keyed "
        "with the merchant's customer_token_secret",
    )


def exchange(merchant: Merchant, request: SessionRequest) -> dict[str, Any]:
    """A customer token (1 hour) for a valid theme signature; 401 for anything else."""
    moment = clock.now().replace(microsecond=0)
    now = int(moment.timestamp())
    # After a rotation the theme's metafield may still hold the previous secret: it signs
    # sessions until `previous_valid_until`; the token is always signed with the current one.
    # A warm container may hold secrets from before a rotation: on a mismatch they are read
    # again once, as for customer tokens (`customer_hub.merchants.shopper_tokens`).
    for max_age in (CACHE_SECONDS, REREAD_AFTER_SECONDS):
        credentials = merchant_credentials(merchant.merchant_id, max_age=max_age)
        if credentials is None:
            raise Unauthorized("This shop cannot verify storefront sessions.")
        secrets = credentials.token_secrets(moment)
        if any(_signed_with(secret, merchant, request, now) for secret in secrets):
            break
    else:
        raise Unauthorized("The signed session is invalid or expired; reload the page.")
    secret = secrets[0]
    lifetime = identity.SESSION_TOKEN_LIFETIME
    token = identity.mint_customer_token(
        merchant.merchant_id,
        secret,
        request.customer_id,
        request.email,
        lifetime,
        issued_at=now,
    )
    return {
        "customer_token": token,
        "expires_at": clock.iso(moment + timedelta(seconds=lifetime)),
    }


def _signed_with(secret: str, merchant: Merchant, request: SessionRequest, now: int) -> bool:
    try:
        identity.verify_session(
            secret,
            merchant.merchant_id,
            request.customer_id,
            request.issued_at,
            request.email,
            request.signature,
            now=now,
        )
    except identity.InvalidSession as exc:
        logger.info("storefront session refused", extra={"reason": str(exc)})
        return False
    return True
