"""Merchant API key lookups, kept light: the authorizer runs before every merchant request.

Only the SHA-256 of a key is stored (`APIKEY#<hash>` / `APIKEY` → merchant id), through the
`customer_hub.merchants.key_store` port. This module imports no pydantic, so the authorizer's
cold start stays close to a bare handler's.
"""

from __future__ import annotations

from customer_hub.identity import hash_api_key
from customer_hub.infra import clock
from customer_hub.merchants import key_store
from customer_hub.merchants.key_store import API_KEY_SK as API_KEY_SK
from customer_hub.merchants.key_store import key_pk


def api_key_pk(api_key: str) -> str:
    return key_pk(hash_api_key(api_key))


def api_key_grant(api_key: str) -> tuple[str, float | None] | None:
    """(merchant id, Unix time the key stops working — None while it is the current key) of a
    stored key; None for an unknown one. A rotated key keeps working until `valid_until`."""
    grant = key_store.store.grant(hash_api_key(api_key))
    return (grant.merchant_id, grant.valid_until) if grant else None


def merchant_id_for_api_key(api_key: str, now: float | None = None) -> str | None:
    """The merchant of a key that works at `now` (Unix time; default: the clock's now)."""
    grant = api_key_grant(api_key)
    if grant is None:
        return None
    merchant_id, until = grant
    moment = clock.now().timestamp() if now is None else now
    return merchant_id if until is None or moment < until else None
