"""The merchants' profiles (settings) behind a port: `MerchantStore` is what
`customer_hub.merchants.profiles` needs, `DynamoMerchants` keeps the profile and API key items
in the data table (`MERCHANT#<id>/PROFILE`, `APIKEY#<sha256>/APIKEY`), `MemoryMerchants` in dicts
(unit tests). Both pass `tests/integration/test_merchant_store.py`. Items are plain dicts: the
models and the rules stay in `profiles`."""

from __future__ import annotations

import copy
from typing import Any, Protocol

from botocore.exceptions import ClientError

from customer_hub.infra.config import config
from customer_hub.infra.store import Table, failed_because, serialize, set_fields

PROFILE_SK = "PROFILE"


def merchant_pk(merchant_id: str) -> str:
    return f"MERCHANT#{merchant_id}"


class MerchantStore(Protocol):
    def find(self, merchant_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
        """The profile item's fields (without `pk`/`sk`), or None."""
        ...

    def create(self, profile: dict[str, Any], api_key_item: dict[str, Any], token: str) -> bool:
        """Store a new merchant's profile and API key item together (a retry with the same
        `token` is a no-op); False when either exists already."""
        ...

    def change(
        self,
        merchant_id: str,
        fields: dict[str, Any],
        *,
        launched_at: str | None = None,
        require_launched: bool = False,
    ) -> dict[str, Any] | None:
        """Set `fields` (and `launched_at` unless already set) on an existing profile, only once
        launched with `require_launched`; the profile after, or None when the condition failed
        (no such merchant, or not launched)."""
        ...


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk")}


class DynamoMerchants:
    @property
    def table(self) -> Table:
        return Table(config().data_table)

    def find(self, merchant_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
        item = self.table.get(merchant_pk(merchant_id), PROFILE_SK, consistent=consistent)
        return _fields(item) if item else None

    def create(self, profile: dict[str, Any], api_key_item: dict[str, Any], token: str) -> bool:
        table = self.table
        operations = [
            {
                "Put": {
                    "TableName": table.name,
                    "Item": serialize(item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for item in (profile, api_key_item)
        ]
        # The token makes a retried transaction (e.g. after a read timeout) a no-op.
        return table.transact_write_if(operations, token=token)

    def change(
        self,
        merchant_id: str,
        fields: dict[str, Any],
        *,
        launched_at: str | None = None,
        require_launched: bool = False,
    ) -> dict[str, Any] | None:
        sets, values, names = set_fields(fields)
        condition = "attribute_exists(pk)"
        if launched_at is not None:
            sets.append("launched_at = if_not_exists(launched_at, :now)")
            values[":now"] = launched_at
        if require_launched:
            condition += " AND hub_status <> :not_launched"
            values[":not_launched"] = "not_launched"
        try:
            attributes = self.table.update(
                merchant_pk(merchant_id),
                PROFILE_SK,
                "SET " + ", ".join(sets),
                values=values,
                names=names or None,
                condition=condition,
                return_values="ALL_NEW",
            )
        except ClientError as exc:
            if failed_because(exc, "ConditionalCheckFailedException"):
                return None
            raise
        return _fields(attributes)


class MemoryMerchants:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def find(self, merchant_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
        item = self.items.get((merchant_pk(merchant_id), PROFILE_SK))
        return _fields(copy.deepcopy(item)) if item else None

    def create(self, profile: dict[str, Any], api_key_item: dict[str, Any], token: str) -> bool:
        keys = [(item["pk"], item["sk"]) for item in (profile, api_key_item)]
        if any(key in self.items for key in keys):
            return False
        for key, item in zip(keys, (profile, api_key_item), strict=True):
            self.items[key] = {k: v for k, v in copy.deepcopy(item).items() if v is not None}
        return True

    def change(
        self,
        merchant_id: str,
        fields: dict[str, Any],
        *,
        launched_at: str | None = None,
        require_launched: bool = False,
    ) -> dict[str, Any] | None:
        item = self.items.get((merchant_pk(merchant_id), PROFILE_SK))
        if item is None or (require_launched and item.get("hub_status") == "not_launched"):
            return None
        item.update(copy.deepcopy(fields))
        if launched_at is not None:
            item.setdefault("launched_at", launched_at)
        return _fields(copy.deepcopy(item))
