"""Merchant API key lookups, kept light: the authorizer runs before every merchant request.

Only the SHA-256 of a key is stored (`APIKEY#<hash>` / `APIKEY` → merchant id). This module
imports no pydantic, so the authorizer's cold start stays close to a bare handler's.
"""

from __future__ import annotations

import os

from customer_hub.identity import hash_api_key
from customer_hub.store import Table

API_KEY_SK = "APIKEY"


def api_key_pk(api_key: str) -> str:
    return f"APIKEY#{hash_api_key(api_key)}"


def merchant_id_for_api_key(api_key: str) -> str | None:
    # The table name straight from the environment: customer_hub.config would pull in pydantic.
    item = Table(os.environ.get("DATA_TABLE", "customer-hub-data")).get(
        api_key_pk(api_key), API_KEY_SK
    )
    return str(item["merchant_id"]) if item else None
