"""One contract for each of redemption's ports, run on the DynamoDB adapter (against the local
stack's moto) and on the in-memory fake the unit tests use: the fake must refuse and allow
exactly what DynamoDB's conditions do."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from customer_hub.identity import Customer
from customer_hub.loyalty import snapshots
from customer_hub.loyalty.snapshots import CouponRecord, CustomerSnapshot, email_pk
from customer_hub.metrics.hub_events import HubEvent
from customer_hub.redemption import idempotency
from customer_hub.redemption.finishing import DynamoWrites, Success, SuccessWrites
from customer_hub.redemption.holds import DynamoHolds, Hold, HoldStore
from customer_hub.redemption.ledger import DynamoLedger, IdempotencyLedger
from customer_hub.redemption.memory import MemoryHolds, MemoryLedger, MemoryWrites

SYNCED = "2026-11-23T12:00:00Z"


@dataclass
class Ports:
    ledger: IdempotencyLedger
    holds: HoldStore
    writes: SuccessWrites
    save: Callable[[str, CustomerSnapshot], Any]  # a snapshot write from Smile


@pytest.fixture(params=["dynamodb", "memory"])
def ports(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Ports:
    if request.param == "dynamodb":
        request.getfixturevalue("stack")
        return Ports(DynamoLedger(), DynamoHolds(), DynamoWrites(), snapshots.save_customer)
    ledger, holds = MemoryLedger(), MemoryHolds()
    monkeypatch.setattr(idempotency, "ledger", ledger)  # `claim_holder` in the contract below
    return Ports(ledger, holds, MemoryWrites(ledger, holds), holds.save)


def _merchant() -> str:
    return f"m_{uuid.uuid4().hex[:16]}"


def _record(pk: str, owner: str = "me", **fields: Any) -> dict[str, Any]:
    return {
        "pk": pk,
        "sk": "IDEMPOTENCY#1",
        "fingerprint": "f",
        "status": "in_progress",
        "owner": owner,
        "lease_until": 100.5,
        "expiration": 1_900_000_000,
        **fields,
    }


# ------------------------------------------------------------------ the idempotency ledger
def test_ledger_creates_a_record_once(ports: Ports) -> None:
    pk = _merchant()
    assert ports.ledger.create(_record(pk))
    assert not ports.ledger.create(_record(pk, owner="other"))
    assert ports.ledger.read(pk, "IDEMPOTENCY#1") == _record(pk)
    assert ports.ledger.read(pk, "IDEMPOTENCY#2") is None


def test_ledger_takes_over_only_the_lapsed_lease_of_a_record_in_progress(ports: Ports) -> None:
    pk = _merchant()
    ports.ledger.create(_record(pk))
    assert not ports.ledger.take_over(pk, "IDEMPOTENCY#1", lapsed_lease=99, owner="b", lease=200)
    assert ports.ledger.take_over(pk, "IDEMPOTENCY#1", lapsed_lease=100.5, owner="b", lease=200)
    assert not ports.ledger.take_over(pk, "IDEMPOTENCY#1", lapsed_lease=100.5, owner="c", lease=300)
    record = ports.ledger.read(pk, "IDEMPOTENCY#1")
    assert record is not None and (record["owner"], record["lease_until"]) == ("b", 200)
    ports.ledger.set_if_owner(pk, "IDEMPOTENCY#1", "b", {"status": "completed"})
    assert not ports.ledger.take_over(pk, "IDEMPOTENCY#1", lapsed_lease=200, owner="c", lease=300)
    assert not ports.ledger.take_over(pk, "IDEMPOTENCY#9", lapsed_lease=200, owner="c", lease=300)


def test_ledger_changes_a_record_only_for_its_owner(ports: Ports) -> None:
    pk = _merchant()
    ports.ledger.create(_record(pk))
    assert not ports.ledger.set_if_owner(pk, "IDEMPOTENCY#1", "other", {"status": "completed"})
    assert ports.ledger.set_if_owner(
        pk, "IDEMPOTENCY#1", "me", {"status": "completed", "response": "{}", "lease_until": 0}
    )
    assert ports.ledger.read(pk, "IDEMPOTENCY#1") == _record(
        pk, status="completed", response="{}", lease_until=0
    )
    assert not ports.ledger.set_if_owner(pk, "IDEMPOTENCY#9", "me", {"lease_until": 0})
    assert not ports.ledger.delete_if_owner(pk, "IDEMPOTENCY#1", "other")
    assert ports.ledger.delete_if_owner(pk, "IDEMPOTENCY#1", "me")
    assert ports.ledger.read(pk, "IDEMPOTENCY#1") is None
    assert not ports.ledger.delete_if_owner(pk, "IDEMPOTENCY#1", "me")


def test_ledger_claims_a_thing_for_one_owner(ports: Ports) -> None:
    pk = _merchant() + "#CLAIM#FULFILLMENT#1"
    assert ports.ledger.holder(pk) is None
    assert ports.ledger.claim(pk, "a", 1_900_000_000)
    assert ports.ledger.claim(pk, "a", 1_900_000_000)
    assert not ports.ledger.claim(pk, "b", 1_900_000_000)
    assert ports.ledger.holder(pk) == "a"


# ------------------------------------------------------------------ holds on the snapshot
def _member(ports: Ports, points: int = 500, synced: str = SYNCED) -> tuple[str, str, str]:
    merchant_id = _merchant()
    snapshot = CustomerSnapshot(
        smile_customer_id=7,
        email="ana@example.com",
        state="member",
        points_balance=points,
        updated_at=synced,
        synced_at=synced,
    )
    ports.save(merchant_id, snapshot)
    return merchant_id, email_pk(merchant_id, "ana@example.com"), "CUSTOMER#7"


def _entry(points: int = 100) -> dict[str, Any]:
    return {"at": SYNCED, "points": points, "name": "$5 off", "smile_customer_id": 7}


def test_holds_change_only_under_the_version_balance_and_snapshot_read(ports: Ports) -> None:
    _, pk, sk = _member(ports)
    first = {"h1": _entry()}
    write = ports.holds.write_holds
    assert not write(pk, sk, first, version=0, balance=400, synced_at=SYNCED)
    assert not write(pk, sk, first, version=0, balance=500, synced_at="2026-11-23T12:00:01Z")
    assert not write(pk, sk, first, version=1, balance=500, synced_at=SYNCED)
    assert write(pk, sk, first, version=0, balance=500, synced_at=SYNCED)
    assert not write(pk, sk, first, version=0, balance=500, synced_at=SYNCED)
    assert write(pk, sk, {**first, "h2": _entry()}, version=1, balance=500, synced_at=SYNCED)
    stored = ports.holds.read(pk, sk)
    assert stored is not None
    assert (stored.hold_version, sorted(stored.holds), stored.points_balance) == (
        2,
        ["h1", "h2"],
        500,
    )
    assert ports.holds.read(pk, "CUSTOMER#8") is None
    assert not write(pk, "CUSTOMER#8", first, version=0, balance=500, synced_at=SYNCED)


def test_a_snapshot_write_keeps_the_holds(ports: Ports) -> None:
    merchant_id, pk, sk = _member(ports)
    ports.holds.write_holds(pk, sk, {"h1": _entry()}, version=0, balance=500, synced_at=SYNCED)
    later = "2026-11-23T12:05:00Z"
    snapshot = CustomerSnapshot(
        smile_customer_id=7,
        email="ana@example.com",
        state="member",
        points_balance=450,
        updated_at=later,
        synced_at=later,
    )
    ports.save(merchant_id, snapshot)
    stored = ports.holds.read(pk, sk)
    assert stored is not None and list(stored.holds) == ["h1"] and stored.points_balance == 450


def test_a_hold_is_released_marked_or_debited_only_while_it_exists(ports: Ports) -> None:
    _, pk, sk = _member(ports)
    ports.holds.write_holds(
        pk,
        sk,
        {"h1": _entry(), "h2": _entry(), "h3": _entry()},
        version=0,
        balance=500,
        synced_at=SYNCED,
    )
    assert ports.holds.mark_unconfirmed(pk, sk, "h1")
    assert ports.holds.mark_spent(pk, sk, "h2")
    assert ports.holds.remove(pk, sk, "h2")
    assert not ports.holds.remove(pk, sk, "h2")
    assert not ports.holds.mark_spent(pk, sk, "h2")
    assert not ports.holds.mark_unconfirmed(pk, sk, "h2")
    assert not ports.holds.debit(pk, sk, "h3", 100, "2026-11-23T11:00:00Z")  # another snapshot
    assert not ports.holds.debit(pk, sk, "h3", 600, SYNCED)  # more than the balance
    assert ports.holds.debit(pk, sk, "h3", 100, SYNCED)
    assert not ports.holds.debit(pk, sk, "h3", 100, SYNCED)
    stored = ports.holds.read(pk, sk)
    assert stored is not None
    assert stored.points_balance == 400
    assert stored.holds == {"h1": {**_entry(), "unconfirmed": True}}
    assert stored.hold_version == 4  # written, spent, removed, debited; unconfirmed is no version


# ------------------------------------------------------------------ the writes of a success
def _success(ports: Ports, owner: str = "me") -> tuple[Success, str]:
    merchant_id, pk, sk = _member(ports)
    entry = {**_entry(), "synced": SYNCED}
    ports.holds.write_holds(pk, sk, {"h1": entry}, version=0, balance=500, synced_at=SYNCED)
    claim_pk = f"MERCHANT#{merchant_id}#SHOPPER#5001"
    ports.ledger.create(_record(claim_pk))
    claim = idempotency.Claim(claim_pk, "IDEMPOTENCY#1", owner, "new", {})
    coupon = CouponRecord(
        fulfillment_id=int(uuid.uuid4().int % 10**9),
        smile_customer_id=7,
        name="$5 off",
        code="HUB-1",
        updated_at=SYNCED,
        applied_at=SYNCED,
    )
    event = HubEvent(
        event_id=f"redeem-{uuid.uuid4().hex}",
        type="coupon_applied",
        occurred_at=SYNCED,
        customer_id="5001",
        email="ana@example.com",
        coupon_code="HUB-1",
    )
    shopper = Customer(shopify_customer_id="5001", email="ana@example.com")
    hold = Hold("h1", 100, 400, entry)
    success = Success(merchant_id, shopper, claim, (pk, sk), hold, coupon, event, {"ok": True})
    return success, f"FULFILLMENT#{coupon.fulfillment_id}"


def test_a_success_is_written_all_at_once(ports: Ports) -> None:
    success, fulfillment = _success(ports)

    assert ports.writes.all_at_once(success)

    pk, sk = success.snapshot
    stored = ports.holds.read(pk, sk)
    assert stored is not None and stored.points_balance == 400 and stored.holds == {}
    record = ports.ledger.read(success.claim.pk, success.claim.sk)
    assert record is not None and record["status"] == "completed"
    assert idempotency.claim_holder(success.merchant_id, fulfillment) == "IDEMPOTENCY#1"


@pytest.mark.parametrize("conflict", ["claimed", "owner", "synced"])
def test_a_success_whose_condition_fails_writes_nothing(ports: Ports, conflict: str) -> None:
    success, fulfillment = _success(ports, owner="someone-else" if conflict == "owner" else "me")
    if conflict == "claimed":
        assert idempotency.claim_once(success.merchant_id, fulfillment, "another-key")
    if conflict == "synced":
        ports.save(
            success.merchant_id,
            CustomerSnapshot(
                smile_customer_id=7,
                email="ana@example.com",
                state="member",
                points_balance=500,
                updated_at="2026-11-23T12:00:05Z",
                synced_at="2026-11-23T12:00:05Z",
            ),
        )

    assert not ports.writes.all_at_once(success)

    stored = ports.holds.read(*success.snapshot)
    assert stored is not None and stored.points_balance == 500 and list(stored.holds) == ["h1"]
    record = ports.ledger.read(success.claim.pk, success.claim.sk)
    assert record is not None and record["status"] == "in_progress"
