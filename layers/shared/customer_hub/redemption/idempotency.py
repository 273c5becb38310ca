"""Idempotency keys of storefront writes (API.md): replay, reuse with another body, in flight.

One record per (merchant, shopper, key) in the IDEMPOTENCY table (`pk`/`sk`, TTL attribute
`expiration`, kept 24 h). A request owns its record through a lease longer than the function's
timeout; a record whose lease lapsed belongs to a crashed or timed-out attempt and the next
request with the same key and body takes it over (and reconciles what that attempt did).

The records live behind the `IdempotencyLedger` port (`customer_hub.redemption.ledger`):
`ledger` is the DynamoDB adapter; unit tests swap in `customer_hub.redemption.memory`'s fake.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from customer_hub.infra import clock
from customer_hub.merchants.profiles import merchant_pk
from customer_hub.problems import IdempotencyKeyInUse, IdempotencyKeyReused, validation_error
from customer_hub.redemption.ledger import DynamoLedger, IdempotencyLedger

LEASE_SECONDS = 20  # above the redeem function's timeout: a live request is never taken over
KEEP_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255


def check_key(value: str | None) -> str:
    """`Idempotency-Key`: 1-255 printable ASCII characters, required."""
    if value is None or not value:
        raise validation_error(["header", "Idempotency-Key"], "an Idempotency-Key is required")
    if len(value) > MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in value):
        raise validation_error(
            ["header", "Idempotency-Key"], "must be 1-255 printable ASCII characters"
        )
    return value


def fingerprint(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


@dataclass
class Claim:
    """This request's hold on one idempotency record."""

    pk: str
    sk: str
    owner: str
    kind: Literal["new", "replay", "resume"]
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def intent(self) -> dict[str, Any] | None:
        intent = self.record.get("intent")
        return intent if isinstance(intent, dict) else None

    @property
    def response(self) -> dict[str, Any]:
        return dict(json.loads(str(self.record["response"])))


# The port the rules below use: DynamoDB in every function, a fake in unit tests.
ledger: IdempotencyLedger = DynamoLedger()


def _now() -> float:
    return clock.now().timestamp()


def begin(merchant_id: str, shopper_id: str, key: str, request_fingerprint: str) -> Claim:
    """Own the key's record, or learn it is done (replay), busy (409) or reused (422)."""
    pk = f"{merchant_pk(merchant_id)}#SHOPPER#{shopper_id}"
    sk = "IDEMPOTENCY#" + hashlib.sha256(key.encode()).hexdigest()
    owner = uuid.uuid4().hex
    now = _now()
    for _ in range(2):
        item = {
            "pk": pk,
            "sk": sk,
            "fingerprint": request_fingerprint,
            "status": "in_progress",
            "owner": owner,
            "lease_until": now + LEASE_SECONDS,
            "created_at": clock.iso(clock.now()),
            "expiration": int(now + KEEP_SECONDS),
        }
        if ledger.create(item):
            return Claim(pk, sk, owner, "new", item)
        existing = ledger.read(pk, sk)
        if existing is not None:
            break
    else:
        raise IdempotencyKeyInUse("This Idempotency-Key is being used by another request.")
    if existing["fingerprint"] != request_fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was used with another request body.")
    if existing["status"] == "completed":
        return Claim(pk, sk, owner, "replay", existing)
    if float(existing["lease_until"]) > now:
        raise IdempotencyKeyInUse("A request with this Idempotency-Key is still in progress.")
    lapsed = existing["lease_until"]
    if not ledger.take_over(pk, sk, lapsed_lease=lapsed, owner=owner, lease=now + LEASE_SECONDS):
        raise IdempotencyKeyInUse("A request with this Idempotency-Key is in progress.")
    return Claim(pk, sk, owner, "resume", {**existing, "owner": owner})


def completed_fields(response: dict[str, Any]) -> dict[str, Any]:
    """What `complete` sets on the record."""
    return {"status": "completed", "response": json.dumps(response), "lease_until": 0}


def complete(claim: Claim, response: dict[str, Any]) -> None:
    # False: another request took the record over after our lease lapsed.
    ledger.set_if_owner(claim.pk, claim.sk, claim.owner, completed_fields(response))


def release(claim: Claim) -> None:
    """Let the next request with this key go on at once (an intent, if any, is kept)."""
    ledger.set_if_owner(claim.pk, claim.sk, claim.owner, {"lease_until": 0})


def forget(claim: Claim) -> None:
    """Nothing happened: the key may be used again from scratch."""
    ledger.delete_if_owner(claim.pk, claim.sk, claim.owner)


def claim_pk(merchant_id: str, name: str) -> str:
    return f"{merchant_pk(merchant_id)}#CLAIM#{name}"


def claim_expiration() -> int:
    return int(_now() + KEEP_SECONDS)


def claim_once(merchant_id: str, name: str, owner_pk: str) -> bool:
    """Claim a unique thing (a Smile fulfillment) for one idempotency record; False if taken
    by another."""
    return ledger.claim(claim_pk(merchant_id, name), owner_pk, claim_expiration())


def claim_holder(merchant_id: str, name: str) -> str | None:
    """Who claimed a unique thing (`claim_once`), or None when nobody has."""
    return ledger.holder(claim_pk(merchant_id, name))
