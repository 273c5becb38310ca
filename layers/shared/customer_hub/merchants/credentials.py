"""Credential rotation (POST /v1/admin/credentials/{name}/rotate): a new value shown once, the
previous one working until `previous_valid_until` (API key: 10 minutes; token secret: 1 hour).

API key: a new `APIKEY#<hash>` item, and the current one gets `valid_until_epoch` (the
authorizer refuses it after that, whatever its cache holds) plus a TTL, in one write through the
`customer_hub.merchants.key_store` port. The profile names the current key's hash, so two
rotations at once cannot both demote it (one gets a 409).
Token secret: the credentials secret keeps the previous secret and its end; verifiers
(`customer_hub.merchants.shopper_tokens`) accept both until then.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from customer_hub.identity import hash_api_key, new_api_key, new_secret
from customer_hub.infra import clock
from customer_hub.infra.secrets import (
    MerchantCredentials,
    credentials_secret_name,
    put_secret,
    read_secret,
)
from customer_hub.merchants import key_store
from customer_hub.problems import Conflict, Forbidden, NotFound

CredentialName = Literal["api_key", "customer_token_secret"]
OVERLAP: dict[str, timedelta] = {
    "api_key": timedelta(minutes=10),
    "customer_token_secret": timedelta(hours=1),
}
# A demoted key's item is deleted by TTL a day after it stopped working (DynamoDB's TTL is lazy).
TTL_GRACE = timedelta(days=1)


def rotate(
    merchant_id: str, name: CredentialName, presented_api_key: str | None
) -> dict[str, str | None]:
    """→ {name: new value, the other name: None, "previous_valid_until": UTC}."""
    until = clock.now().replace(microsecond=0) + OVERLAP[name]
    if name == "api_key":
        value = _rotate_api_key(merchant_id, presented_api_key, until)
    else:
        value = _rotate_token_secret(merchant_id, until)
    rotated: dict[str, str | None] = {"api_key": None, "customer_token_secret": None}
    return {**rotated, name: value, "previous_valid_until": clock.iso(until)}


def _rotate_api_key(merchant_id: str, presented: str | None, until: datetime) -> str:
    keys = key_store.store
    profile = keys.profile(merchant_id)
    if profile is None:
        raise NotFound("No such merchant.")
    # Only the current key rotates itself: a previous key still in its overlap (perhaps the
    # leaked one being replaced) must not take over the merchant with a fresh key.
    # Merchants created before the profile named its key: the key of this very request, which
    # the replacement requires to be a current key (no end set).
    presented_hash = hash_api_key(presented) if presented else None
    old_hash = profile.key_hash or presented_hash
    if old_hash is None or presented_hash != old_hash:
        raise Forbidden("Only the current API key can rotate it (a previous key cannot).")
    new_key = new_api_key()
    ends = int(until.timestamp())
    ttl = ends + int(TTL_GRACE.total_seconds())
    if not keys.replace(merchant_id, old_hash, hash_api_key(new_key), until=ends, ttl=ttl):
        raise Conflict(
            "The API key was rotated meanwhile, or this key is no longer the current one; "
            "send the request with the current key."
        )
    return new_key


def _rotate_token_secret(merchant_id: str, until: datetime) -> str:
    name = credentials_secret_name(merchant_id)
    current = read_secret(name, max_age=0)
    if not current or not current.get("customer_token_secret"):
        raise NotFound("This merchant has no customer token secret.")
    credentials = MerchantCredentials.model_validate(current)
    previous = [
        {"secret": p.secret.get_secret_value(), "valid_until": p.valid_until}
        for p in credentials.still_valid(clock.now())
    ]
    previous.append({"secret": current["customer_token_secret"], "valid_until": clock.iso(until)})
    secret = new_secret()
    put_secret(
        name,
        {
            **current,
            "customer_token_secret": secret,
            "previous_customer_token_secrets": previous,
        },
    )
    return secret
