"""The idempotency ledger's port: the records of `customer_hub.redemption.idempotency` and the
claims on unique things (a Smile fulfillment), as conditional writes.

`IdempotencyLedger` is what the rules need; `DynamoLedger` keeps them in the IDEMPOTENCY table
(`pk`/`sk`, TTL attribute `expiration`), `customer_hub.redemption.memory.MemoryLedger` in a dict
(unit tests). Both pass `tests/integration/test_redemption_ports.py`.
"""

from __future__ import annotations

from typing import Any, Protocol

from customer_hub.infra.config import config
from customer_hub.infra.store import Table, key, serialize, serialize_value, set_fields

CLAIM_SK = "CLAIM"


class IdempotencyLedger(Protocol):
    def create(self, record: dict[str, Any]) -> bool:
        """Store a new record; False when one exists under its key."""
        ...

    def read(self, pk: str, sk: str) -> dict[str, Any] | None:
        """The record (a consistent read), or None."""
        ...

    def take_over(self, pk: str, sk: str, *, lapsed_lease: Any, owner: str, lease: float) -> bool:
        """Own an in-progress record whose lease is still `lapsed_lease`; False when another
        request changed it first."""
        ...

    def set_if_owner(self, pk: str, sk: str, owner: str, fields: dict[str, Any]) -> bool:
        """Set `fields` while `owner` owns the record; False when another took it over."""
        ...

    def delete_if_owner(self, pk: str, sk: str, owner: str) -> bool: ...

    def claim(self, pk: str, by: str, expiration: int) -> bool:
        """Claim the thing named by `pk` for `by`; True if free or already `by`'s."""
        ...

    def holder(self, pk: str) -> str | None:
        """Who claimed the thing named by `pk`, or None."""
        ...


class DynamoLedger:
    """The ledger in the IDEMPOTENCY table."""

    @property
    def table(self) -> Table:
        return Table(config().idempotency_table)

    def create(self, record: dict[str, Any]) -> bool:
        return self.table.put_if(record, "attribute_not_exists(pk)")

    def read(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self.table.get(pk, sk, consistent=True)

    def take_over(self, pk: str, sk: str, *, lapsed_lease: Any, owner: str, lease: float) -> bool:
        return self.table.update_if(
            pk,
            sk,
            "SET #owner = :owner, lease_until = :lease",
            "lease_until = :old AND #status = :progress",
            values={
                ":owner": owner,
                ":lease": lease,
                ":old": lapsed_lease,
                ":progress": "in_progress",
            },
            names={"#owner": "owner", "#status": "status"},
        )

    def set_if_owner(self, pk: str, sk: str, owner: str, fields: dict[str, Any]) -> bool:
        expression, values, names = _set_fields(fields)
        return self.table.update_if(
            pk,
            sk,
            expression,
            "#owner = :me",
            values={":me": owner, **values},
            names={"#owner": "owner", **names},
        )

    def delete_if_owner(self, pk: str, sk: str, owner: str) -> bool:
        return self.table.delete_if(
            pk, sk, "#owner = :me", values={":me": owner}, names={"#owner": "owner"}
        )

    def claim(self, pk: str, by: str, expiration: int) -> bool:
        return self.table.put_if(
            {"pk": pk, "sk": CLAIM_SK, "by": by, "expiration": expiration},
            "attribute_not_exists(pk) OR #by = :by",
            values={":by": by},
            names={"#by": "by"},
        )

    def holder(self, pk: str) -> str | None:
        item = self.table.get(pk, CLAIM_SK, consistent=True)
        return str(item["by"]) if item else None

    # TransactWriteItems operations (`customer_hub.redemption.finishing` writes a success at once)
    def claim_write(self, pk: str, by: str, expiration: int) -> dict[str, Any]:
        """`claim` as a TransactWriteItems operation."""
        return {
            "Put": {
                "TableName": self.table.name,
                "Item": serialize({"pk": pk, "sk": CLAIM_SK, "by": by, "expiration": expiration}),
                "ConditionExpression": "attribute_not_exists(pk) OR #by = :by",
                "ExpressionAttributeNames": {"#by": "by"},
                "ExpressionAttributeValues": {":by": {"S": by}},
            }
        }

    def set_if_owner_write(
        self, pk: str, sk: str, owner: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """`set_if_owner` as a TransactWriteItems operation."""
        expression, values, names = _set_fields(fields)
        return {
            "Update": {
                "TableName": self.table.name,
                "Key": key(pk, sk),
                "UpdateExpression": expression,
                "ConditionExpression": "#owner = :me",
                "ExpressionAttributeNames": {**names, "#owner": "owner"},
                "ExpressionAttributeValues": {
                    **{k: serialize_value(v) for k, v in values.items()},
                    ":me": {"S": owner},
                },
            }
        }


def _set_fields(fields: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, str]]:
    sets, values, names = set_fields(fields)
    return "SET " + ", ".join(sets), values, names
