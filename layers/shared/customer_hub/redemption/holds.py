"""The points guard: holds on the shopper's customer snapshot item (docstring of
`customer_hub.redemption.protocol`, 2), behind the `HoldStore` port.

The snapshot item itself belongs to `customer_hub.loyalty.snapshots`; redemption only reads it
consistently and changes its `holds` / `hold_version` / `points_balance` under conditions.
`DynamoHolds` does that on the data table, `customer_hub.redemption.memory.MemoryHolds` on dicts
(unit tests); both pass `tests/integration/test_redemption_ports.py`.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from customer_hub.infra import clock
from customer_hub.infra.config import config
from customer_hub.infra.store import Table, key, serialize_value
from customer_hub.loyalty import snapshots
from customer_hub.loyalty.snapshots import CustomerSnapshot, email_pk
from customer_hub.problems import Forbidden, InsufficientPoints, UpstreamUnavailable
from customer_hub.redemption import idempotency

HOLD_ATTEMPTS = 40


@dataclass
class Hold:
    """Points held on one customer snapshot item for one redemption."""

    hold_id: str
    points: int
    balance_after: int  # the 201 answer: the balance once this and earlier holds are spent
    entry: dict[str, Any]


class HoldStore(Protocol):
    def read(self, pk: str, sk: str) -> CustomerSnapshot | None:
        """The customer snapshot item (a consistent read), holds as stored."""
        ...

    def write_holds(
        self,
        pk: str,
        sk: str,
        holds: dict[str, Any],
        *,
        version: int,
        balance: int,
        synced_at: str | None,
    ) -> bool:
        """Replace the holds (version + 1) while the item still has this balance, snapshot time
        and hold version (0: none yet); False when it changed."""
        ...

    def remove(self, pk: str, sk: str, hold_id: str) -> bool:
        """Drop the hold (version + 1); False when it is not there."""
        ...

    def debit(self, pk: str, sk: str, hold_id: str, points: int, synced: str) -> bool:
        """Take the held points off the balance and drop the hold (version + 1), while the
        snapshot is the one they were held against (`synced`) and can pay; else False."""
        ...

    def mark_spent(self, pk: str, sk: str, hold_id: str) -> bool:
        """Keep the hold, marked spent (version + 1); False when it is not there."""
        ...

    def mark_unconfirmed(self, pk: str, sk: str, hold_id: str) -> bool:
        """Mark the hold's request over with its outcome unknown; False when it is not there."""
        ...


_DEBIT = (
    "SET points_balance = points_balance - :c, hold_version = hold_version + :one REMOVE holds.#h",
    "attribute_exists(holds.#h) AND synced_at = :s AND points_balance >= :c",
)


class DynamoHolds:
    """Holds on the snapshot items of the data table."""

    @property
    def table(self) -> Table:
        return Table(config().data_table)

    def read(self, pk: str, sk: str) -> CustomerSnapshot | None:
        item = self.table.get(pk, sk, consistent=True)
        return CustomerSnapshot.model_validate(item) if item else None

    def write_holds(
        self,
        pk: str,
        sk: str,
        holds: dict[str, Any],
        *,
        version: int,
        balance: int,
        synced_at: str | None,
    ) -> bool:
        values: dict[str, Any] = {":holds": holds, ":next": version + 1, ":b": balance}
        values[":s"] = synced_at
        condition = "points_balance = :b AND synced_at = :s AND "
        if version:
            condition += "hold_version = :v"
            values[":v"] = version
        else:
            condition += "attribute_not_exists(hold_version)"
        return self.table.update_if(
            pk, sk, "SET holds = :holds, hold_version = :next", condition, values=values
        )

    def _on_hold(self, pk: str, sk: str, hold_id: str, expression: str, **values: Any) -> bool:
        return self.table.update_if(
            pk,
            sk,
            expression,
            "attribute_exists(holds.#h)",
            values=values,
            names={"#h": hold_id},
        )

    def remove(self, pk: str, sk: str, hold_id: str) -> bool:
        expression = "REMOVE holds.#h SET hold_version = hold_version + :one"
        return self._on_hold(pk, sk, hold_id, expression, **{":one": 1})

    def mark_spent(self, pk: str, sk: str, hold_id: str) -> bool:
        expression = "SET holds.#h.spent = :yes, hold_version = hold_version + :one"
        return self._on_hold(pk, sk, hold_id, expression, **{":yes": True, ":one": 1})

    def mark_unconfirmed(self, pk: str, sk: str, hold_id: str) -> bool:
        expression = "SET holds.#h.unconfirmed = :yes"
        return self._on_hold(pk, sk, hold_id, expression, **{":yes": True})

    def debit(self, pk: str, sk: str, hold_id: str, points: int, synced: str) -> bool:
        expression, condition = _DEBIT
        return self.table.update_if(
            pk,
            sk,
            expression,
            condition,
            values={":c": points, ":s": synced, ":one": 1},
            names={"#h": hold_id},
        )

    def debit_write(
        self, pk: str, sk: str, hold_id: str, points: int, synced: str
    ) -> dict[str, Any]:
        """`debit` as a TransactWriteItems operation."""
        expression, condition = _DEBIT
        return {
            "Update": {
                "TableName": self.table.name,
                "Key": key(pk, sk),
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#h": hold_id},
                "ExpressionAttributeValues": {
                    ":one": serialize_value(1),
                    ":c": serialize_value(points),
                    ":s": serialize_value(synced),
                },
            }
        }


# The port the rules below use: DynamoDB in every function, a fake in unit tests.
store: HoldStore = DynamoHolds()


def customer_key(merchant_id: str, customer: CustomerSnapshot) -> tuple[str, str]:
    return email_pk(merchant_id, customer.email), f"CUSTOMER#{customer.smile_customer_id}"


def hold_id_of(claim: idempotency.Claim) -> str:
    return hashlib.sha256(f"{claim.pk}|{claim.sk}".encode()).hexdigest()[:24]


def _raw(customer: CustomerSnapshot) -> CustomerSnapshot:
    """The stored snapshot (the balance before holds are applied)."""
    if customer.snapshot_balance is None:
        return customer
    return customer.model_copy(
        update={"points_balance": customer.snapshot_balance, "snapshot_balance": None}
    )


def read_customer(merchant_id: str, customer: CustomerSnapshot) -> CustomerSnapshot | None:
    return store.read(*customer_key(merchant_id, customer))


def hold_points(
    merchant_id: str, customer: CustomerSnapshot, hold_id: str, points: int, entry: dict[str, Any]
) -> Hold | dict[str, Any]:
    """Hold `points` unless the balance minus the live holds cannot pay them.

    Returns the Hold, or the existing entry when this hold id already holds points (a previous
    attempt with the same key, seen by a consistent read).
    """
    pk, sk = customer_key(merchant_id, customer)
    current: CustomerSnapshot | None = _raw(customer)
    for attempt in range(HOLD_ATTEMPTS):
        if current is None:
            raise Forbidden("This account is not a member of the loyalty program.")
        if hold_id in current.holds:
            if attempt:
                return dict(current.holds[hold_id])
            current = read_customer(merchant_id, customer)  # confirm with a consistent read
            continue
        now = clock.now()
        held = current.held_points(now)
        available = max(0, current.points_balance - held)
        if points > available:
            raise InsufficientPoints(
                f"This reward needs {points} points; {available} are available.",
                points_needed=points - available,
            )
        cutoff = now - timedelta(seconds=snapshots.HOLD_MAX_SECONDS)
        holds = {k: v for k, v in current.holds.items() if clock.parse_iso(str(v["at"])) >= cutoff}
        entry["synced"] = current.synced_at  # the snapshot these points were held against
        holds[hold_id] = entry
        if store.write_holds(
            pk,
            sk,
            holds,
            version=current.hold_version,
            balance=current.points_balance,
            synced_at=current.synced_at,
        ):
            return Hold(hold_id, points, available - points, entry)
        # The snapshot or the holds changed: look again (a little apart under contention).
        if attempt > 2:
            time.sleep(random.uniform(0, 0.02 * min(attempt, 10)))
        current = read_customer(merchant_id, customer)
    raise UpstreamUnavailable(
        "Too many redemptions at once; try again.", headers={"Retry-After": "1"}
    )


def release_hold(merchant_id: str, customer: CustomerSnapshot, hold_id: str) -> None:
    """Nothing was spent: the held points count again."""
    store.remove(*customer_key(merchant_id, customer), hold_id)


def settle_hold(merchant_id: str, customer: CustomerSnapshot, hold: Hold) -> None:
    """The points were spent at Smile. While the snapshot is the one the points were held
    against, debit it and drop the hold. A newer snapshot may or may not show the purchase: the
    hold is kept, marked spent, and counts until a snapshot read after the outcome was final
    replaces it."""
    pk, sk = customer_key(merchant_id, customer)
    if store.debit(pk, sk, hold.hold_id, hold.points, str(hold.entry.get("synced"))):
        return
    store.mark_spent(pk, sk, hold.hold_id)


def mark_unconfirmed(merchant_id: str, customer: CustomerSnapshot, hold_id: str) -> None:
    """This request is over: its hold no longer stands for a live request that will claim its
    own fulfillment (`customer_hub.redemption.reconciliation`), whoever settles it later."""
    store.mark_unconfirmed(*customer_key(merchant_id, customer), hold_id)
