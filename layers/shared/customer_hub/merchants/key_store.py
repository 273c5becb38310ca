"""Merchant API keys behind a port: `KeyStore` is what the authorizer's lookup
(`customer_hub.merchants.api_keys`) and rotation (`customer_hub.merchants.credentials`) need;
`DynamoKeys` keeps them in the data table, `MemoryKeys` in dicts (unit tests); `store` is
the one they use. Both pass
`tests/integration/test_key_store.py`.

Items: `APIKEY#<sha256 of the key>` / `APIKEY` → `merchant_id`, and once rotated away
`valid_until_epoch` (the authorizer refuses the key after it) with the TTL `expires_at`; the
profile (`MERCHANT#<m>` / `PROFILE`) names its current key's hash (`api_key_hash`). Only hashes
are stored. This module imports no pydantic: the authorizer runs before every merchant request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from customer_hub.infra.store import Table, is_condition_failed, key, serialize, serialize_value

API_KEY_SK = "APIKEY"
# Unix seconds after which a rotated key no longer works (also the item's TTL attribute,
# `expires_at`, lets DynamoDB delete it later: deletion by TTL is not prompt, this is).
VALID_UNTIL = "valid_until_epoch"
API_KEY_HASH = "api_key_hash"  # profile attribute: the hash of the merchant's current key
PROFILE_SK = "PROFILE"


def key_pk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def _profile_pk(merchant_id: str) -> str:
    # `customer_hub.merchants.repository.merchant_pk`, not imported: it brings the config.
    return f"MERCHANT#{merchant_id}"


@dataclass(frozen=True)
class Grant:
    merchant_id: str
    valid_until: float | None  # Unix time the key stops working; None: the current key


@dataclass(frozen=True)
class Profile:
    key_hash: str | None  # None: created before profiles named their key


class KeyStore(Protocol):
    def grant(self, key_hash: str) -> Grant | None:
        """What a stored key grants; None for an unknown one."""
        ...

    def profile(self, merchant_id: str) -> Profile | None:
        """The merchant's current key as its profile names it (read consistently); None
        when there is no such merchant."""
        ...

    def replace(
        self, merchant_id: str, old_hash: str, new_hash: str, *, until: int, ttl: int
    ) -> bool:
        """At once: store the new key, end the old one at `until` (TTL `ttl`) and name the new
        one in the profile. False (nothing written) when the new key exists, the old one is
        not the merchant's or already ended, or the profile names another key."""
        ...


def _update(
    table: Table,
    item: tuple[str, str],
    expression: str,
    condition: str,
    names: dict[str, str],
    values: dict[str, Any],
) -> dict[str, Any]:
    """A conditional UpdateItem as a TransactWriteItems operation."""
    return {
        "Update": {
            "TableName": table.name,
            "Key": key(*item),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {k: serialize_value(v) for k, v in values.items()},
        }
    }


class DynamoKeys:
    @property
    def table(self) -> Table:
        # The table name straight from the environment, as `customer_hub.infra.config` reads
        # it: the authorizer's import stays light.
        return Table(os.environ.get("DATA_TABLE", "customer-hub-data"))

    def grant(self, key_hash: str) -> Grant | None:
        item = self.table.get(key_pk(key_hash), API_KEY_SK)
        if not item:
            return None
        until = item.get(VALID_UNTIL)
        return Grant(str(item["merchant_id"]), float(until) if until is not None else None)

    def profile(self, merchant_id: str) -> Profile | None:
        item = self.table.get(_profile_pk(merchant_id), PROFILE_SK, consistent=True)
        if item is None:
            return None
        return Profile(str(item[API_KEY_HASH]) if item.get(API_KEY_HASH) else None)

    def replace(
        self, merchant_id: str, old_hash: str, new_hash: str, *, until: int, ttl: int
    ) -> bool:
        table = self.table
        new_item = {"pk": key_pk(new_hash), "sk": API_KEY_SK, "merchant_id": merchant_id}
        operations = [
            {
                "Put": {
                    "TableName": table.name,
                    "Item": serialize(new_item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            _update(
                table,
                (key_pk(old_hash), API_KEY_SK),
                "SET #until = :until, expires_at = :ttl",
                "merchant_id = :m AND attribute_not_exists(#until)",
                {"#until": VALID_UNTIL},
                {":until": until, ":ttl": ttl, ":m": merchant_id},
            ),
            _update(
                table,
                (_profile_pk(merchant_id), PROFILE_SK),
                "SET #hash = :new",
                "attribute_not_exists(#hash) OR #hash = :old",
                {"#hash": API_KEY_HASH},
                {":new": new_hash, ":old": old_hash},
            ),
        ]
        try:
            # The token makes a retried rotation (e.g. after a read timeout) a no-op.
            table.transact_write(operations, token=new_hash[:36])
        except ClientError as exc:
            if is_condition_failed(exc):
                return False
            raise
        return True


class MemoryKeys:
    def __init__(self) -> None:
        self.keys: dict[str, dict[str, str | int]] = {}  # key hash → merchant_id, ends
        self.profiles: dict[str, Profile] = {}

    def add(self, merchant_id: str, key_hash: str, *, named: bool = True) -> None:
        """A merchant as creation stores it (`named=False`: a profile from before profiles
        named their key)."""
        self.keys[key_hash] = {"merchant_id": merchant_id}
        self.profiles[merchant_id] = Profile(key_hash if named else None)

    def grant(self, key_hash: str) -> Grant | None:
        item = self.keys.get(key_hash)
        if item is None:
            return None
        until = item.get(VALID_UNTIL)
        return Grant(str(item["merchant_id"]), float(until) if until is not None else None)

    def profile(self, merchant_id: str) -> Profile | None:
        return self.profiles.get(merchant_id)

    def replace(
        self, merchant_id: str, old_hash: str, new_hash: str, *, until: int, ttl: int
    ) -> bool:
        old, profile = self.keys.get(old_hash), self.profiles.get(merchant_id)
        if (
            new_hash in self.keys
            or old is None
            or old.get("merchant_id") != merchant_id
            or VALID_UNTIL in old
            or (profile is not None and profile.key_hash not in (None, old_hash))
        ):
            return False
        self.keys[new_hash] = {"merchant_id": merchant_id}
        old.update({VALID_UNTIL: until, "expires_at": ttl})
        self.profiles[merchant_id] = Profile(new_hash)
        return True


# The port the lookup and the rotation use: DynamoDB in every function, a fake in unit tests.
store: KeyStore = DynamoKeys()
