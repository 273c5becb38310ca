"""Merchant API key lookups, kept light: the authorizer runs before every merchant request.

Only the SHA-256 of a key is stored (`APIKEY#<hash>` / `APIKEY` → merchant id). This module
imports no pydantic, so the authorizer's cold start stays close to a bare handler's.
"""

from __future__ import annotations

import os

from customer_hub.identity import hash_api_key
from customer_hub.infra import clock
from customer_hub.infra.store import Table

API_KEY_SK = "APIKEY"
# Unix seconds after which a rotated key no longer works (also the item's TTL attribute,
# `expires_at`, lets DynamoDB delete it later: deletion by TTL is not prompt, this is).
VALID_UNTIL = "valid_until_epoch"


def api_key_pk(api_key: str) -> str:
    return f"APIKEY#{hash_api_key(api_key)}"


def api_key_grant(api_key: str) -> tuple[str, float | None] | None:
    """(merchant id, Unix time the key stops working — None while it is the current key) of a
    stored key; None for an unknown one. A rotated key keeps working until `valid_until`."""
    # The table name straight from the environment (customer_hub.infra.config pulls in pydantic).
    item = Table(os.environ.get("DATA_TABLE", "customer-hub-data")).get(
        api_key_pk(api_key), API_KEY_SK
    )
    if not item:
        return None
    until = item.get(VALID_UNTIL)
    return str(item["merchant_id"]), (float(until) if until is not None else None)


def merchant_id_for_api_key(api_key: str, now: float | None = None) -> str | None:
    """The merchant of a key that works at `now` (Unix time; default: the clock's now)."""
    grant = api_key_grant(api_key)
    if grant is None:
        return None
    merchant_id, until = grant
    moment = clock.now().timestamp() if now is None else now
    return merchant_id if until is None or moment < until else None
