"""In-memory fakes of redemption's ports, for unit tests: the idempotency ledger, the holds on
customer snapshots and the writes of a success. They keep the adapters' conditions (the same
contract suite, `tests/integration/test_redemption_ports.py`, runs on both) and count nothing
else: no AWS, no threads, no clock of their own."""

from __future__ import annotations

import copy
from typing import Any

from customer_hub.infra import clock
from customer_hub.loyalty.snapshots import CouponRecord, CustomerSnapshot, email_pk
from customer_hub.metrics.hub_events import HubEvent
from customer_hub.redemption import idempotency
from customer_hub.redemption.finishing import Success
from customer_hub.redemption.ledger import CLAIM_SK

Key = tuple[str, str]


class MemoryLedger:
    def __init__(self) -> None:
        self.records: dict[Key, dict[str, Any]] = {}

    def create(self, record: dict[str, Any]) -> bool:
        key = (record["pk"], record["sk"])
        if key in self.records:
            return False
        self.records[key] = copy.deepcopy(record)
        return True

    def read(self, pk: str, sk: str) -> dict[str, Any] | None:
        record = self.records.get((pk, sk))
        return copy.deepcopy(record) if record is not None else None

    def take_over(self, pk: str, sk: str, *, lapsed_lease: Any, owner: str, lease: float) -> bool:
        record = self.records.get((pk, sk))
        if record is None or record.get("lease_until") != lapsed_lease:
            return False
        if record.get("status") != "in_progress":
            return False
        record.update(owner=owner, lease_until=lease)
        return True

    def set_if_owner(self, pk: str, sk: str, owner: str, fields: dict[str, Any]) -> bool:
        record = self.records.get((pk, sk))
        if record is None or record.get("owner") != owner:
            return False
        record.update(copy.deepcopy(fields))
        return True

    def delete_if_owner(self, pk: str, sk: str, owner: str) -> bool:
        record = self.records.get((pk, sk))
        if record is None or record.get("owner") != owner:
            return False
        del self.records[(pk, sk)]
        return True

    def claim(self, pk: str, by: str, expiration: int) -> bool:
        if self.holder(pk) not in (None, by):
            return False
        self.records[(pk, CLAIM_SK)] = {
            "pk": pk,
            "sk": CLAIM_SK,
            "by": by,
            "expiration": expiration,
        }
        return True

    def holder(self, pk: str) -> str | None:
        record = self.records.get((pk, CLAIM_SK))
        return str(record["by"]) if record else None


class MemoryHolds:
    """Customer snapshot items as the data table holds them: Smile's fields, `holds`,
    `hold_version` (absent until the first hold)."""

    def __init__(self) -> None:
        self.items: dict[Key, dict[str, Any]] = {}

    def save(self, merchant_id: str, snapshot: CustomerSnapshot) -> None:
        """What a snapshot write from Smile does (`snapshots.save_customer`): Smile's fields
        replaced, the holds kept."""
        key = (email_pk(merchant_id, snapshot.email), f"CUSTOMER#{snapshot.smile_customer_id}")
        item = self.items.setdefault(key, {})
        item.update(snapshot.model_dump(mode="json", exclude_none=True))

    def read(self, pk: str, sk: str) -> CustomerSnapshot | None:
        item = self.items.get((pk, sk))
        return CustomerSnapshot.model_validate(copy.deepcopy(item)) if item else None

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
        item = self.items.get((pk, sk))
        if item is None or item.get("points_balance") != balance:
            return False
        if item.get("synced_at") != synced_at or item.get("hold_version") != (version or None):
            return False
        item.update(holds=copy.deepcopy(holds), hold_version=version + 1)
        return True

    def _hold(self, pk: str, sk: str, hold_id: str) -> dict[str, Any] | None:
        item = self.items.get((pk, sk))
        return item if item is not None and hold_id in (item.get("holds") or {}) else None

    def remove(self, pk: str, sk: str, hold_id: str) -> bool:
        item = self._hold(pk, sk, hold_id)
        if item is None:
            return False
        del item["holds"][hold_id]
        item["hold_version"] += 1
        return True

    def mark_spent(self, pk: str, sk: str, hold_id: str) -> bool:
        item = self._hold(pk, sk, hold_id)
        if item is None:
            return False
        item["holds"][hold_id]["spent"] = True
        item["hold_version"] += 1
        return True

    def mark_unconfirmed(self, pk: str, sk: str, hold_id: str) -> bool:
        item = self._hold(pk, sk, hold_id)
        if item is None:
            return False
        item["holds"][hold_id]["unconfirmed"] = True
        return True

    def can_debit(self, pk: str, sk: str, hold_id: str, points: int, synced: str) -> bool:
        item = self._hold(pk, sk, hold_id)
        return (
            item is not None
            and item.get("synced_at") == synced
            and int(item.get("points_balance", 0)) >= points
        )

    def debit(self, pk: str, sk: str, hold_id: str, points: int, synced: str) -> bool:
        if not self.can_debit(pk, sk, hold_id, points, synced):
            return False
        item = self.items[(pk, sk)]
        item["points_balance"] -= points
        item["hold_version"] += 1
        del item["holds"][hold_id]
        return True


class MemoryWrites:
    """The writes of a success over a MemoryLedger and MemoryHolds; coupons and events kept
    here. `all_at_once` writes all or nothing, as the transaction does."""

    def __init__(self, ledger: MemoryLedger, holds: MemoryHolds) -> None:
        self.ledger = ledger
        self.holds = holds
        self.coupons: dict[tuple[str, str, int], CouponRecord] = {}
        self.events: dict[tuple[str, str], HubEvent] = {}

    def all_at_once(self, success: Success) -> bool:
        claim, hold, coupon = success.claim, success.hold, success.coupon
        claim_pk = idempotency.claim_pk(success.merchant_id, f"FULFILLMENT#{coupon.fulfillment_id}")
        synced = str(hold.entry.get("synced"))
        record = self.ledger.records.get((claim.pk, claim.sk))
        event = success.event
        if (
            self.ledger.holder(claim_pk) not in (None, claim.sk)
            or not self.holds.can_debit(*success.snapshot, hold.hold_id, hold.points, synced)
            or record is None
            or record.get("owner") != claim.owner
            or (event is not None and (success.merchant_id, event.event_id) in self.events)
        ):
            return False
        self.ledger.claim(claim_pk, claim.sk, idempotency.claim_expiration())
        self.coupon_applied(
            success.merchant_id, success.shopper.email, success.shopper.shopify_customer_id, coupon
        )
        self.holds.debit(*success.snapshot, hold.hold_id, hold.points, synced)
        fields = idempotency.completed_fields(success.response)
        self.ledger.set_if_owner(claim.pk, claim.sk, claim.owner, fields)
        if event is not None:
            self.event(success.merchant_id, event)
        return True

    def coupon_applied(
        self, merchant_id: str, email: str, shopify_customer_id: str, coupon: CouponRecord
    ) -> None:
        update = {"shopify_customer_id": shopify_customer_id, "applied_at": clock.iso(clock.now())}
        self.coupons[(merchant_id, email, coupon.fulfillment_id)] = coupon.model_copy(update=update)

    def event(self, merchant_id: str, event: HubEvent) -> None:
        self.events.setdefault((merchant_id, event.event_id), event)
