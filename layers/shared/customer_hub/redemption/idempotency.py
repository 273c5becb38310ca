"""Idempotency keys of storefront writes (API.md): replay, reuse with another body, in flight.

One record per (merchant, shopper, key) in the IDEMPOTENCY table (`pk`/`sk`, TTL attribute
`expiration`, kept 24 h). A request owns its record through a lease longer than the function's
timeout; a record whose lease lapsed belongs to a crashed or timed-out attempt and the next
request with the same key and body takes it over (and reconciles what that attempt did).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from customer_hub.infra import clock
from customer_hub.infra.config import config
from customer_hub.infra.store import Table
from customer_hub.merchants.profiles import merchant_pk
from customer_hub.problems import IdempotencyKeyInUse, IdempotencyKeyReused, validation_error

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


def _table() -> Table:
    return Table(config().idempotency_table)


def _now() -> float:
    return clock.now().timestamp()


def begin(merchant_id: str, shopper_id: str, key: str, request_fingerprint: str) -> Claim:
    """Own the key's record, or learn it is done (replay), busy (409) or reused (422)."""
    pk = f"{merchant_pk(merchant_id)}#SHOPPER#{shopper_id}"
    sk = "IDEMPOTENCY#" + hashlib.sha256(key.encode()).hexdigest()
    owner = uuid.uuid4().hex
    table = _table()
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
        try:
            table.put(item, ConditionExpression="attribute_not_exists(pk)")
            return Claim(pk, sk, owner, "new", item)
        except table._client.exceptions.ConditionalCheckFailedException:
            existing = table.get(pk, sk, consistent=True)
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
    try:
        table.update(
            pk,
            sk,
            "SET #owner = :owner, lease_until = :lease",
            values={
                ":owner": owner,
                ":lease": now + LEASE_SECONDS,
                ":old": existing["lease_until"],
                ":progress": "in_progress",
            },
            names={"#owner": "owner", "#status": "status"},
            condition="lease_until = :old AND #status = :progress",
        )
    except table._client.exceptions.ConditionalCheckFailedException as exc:
        raise IdempotencyKeyInUse("A request with this Idempotency-Key is in progress.") from exc
    return Claim(pk, sk, owner, "resume", {**existing, "owner": owner})


def _owned(
    claim: Claim,
    expression: str,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
) -> None:
    table = _table()
    try:
        table.update(
            claim.pk,
            claim.sk,
            expression,
            values={":me": claim.owner, **(values or {})},
            names={"#owner": "owner", **(names or {})},
            condition="#owner = :me",
        )
    except table._client.exceptions.ConditionalCheckFailedException:
        return  # another request took the record over after our lease lapsed


def complete(claim: Claim, response: dict[str, Any]) -> None:
    _owned(
        claim,
        "SET #status = :done, #response = :response, lease_until = :zero",
        {":done": "completed", ":response": json.dumps(response), ":zero": 0},
        {"#status": "status", "#response": "response"},
    )


def release(claim: Claim) -> None:
    """Let the next request with this key go on at once (an intent, if any, is kept)."""
    _owned(claim, "SET lease_until = :zero", {":zero": 0})


def forget(claim: Claim) -> None:
    """Nothing happened: the key may be used again from scratch."""
    table = _table()
    try:
        table.delete(
            claim.pk,
            claim.sk,
            ConditionExpression="#owner = :me",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":me": {"S": claim.owner}},
        )
    except table._client.exceptions.ConditionalCheckFailedException:
        return


def claim_once(merchant_id: str, name: str, owner_pk: str) -> bool:
    """Claim a unique thing (a Smile fulfillment) for one idempotency record; False if taken
    by another."""
    table = _table()
    pk = f"{merchant_pk(merchant_id)}#CLAIM#{name}"
    try:
        table.put(
            {"pk": pk, "sk": "CLAIM", "by": owner_pk, "expiration": int(_now() + KEEP_SECONDS)},
            ConditionExpression="attribute_not_exists(pk) OR #by = :by",
            ExpressionAttributeNames={"#by": "by"},
            ExpressionAttributeValues={":by": {"S": owner_pk}},
        )
    except table._client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def claim_holder(merchant_id: str, name: str) -> str | None:
    """Who claimed a unique thing (`claim_once`), or None when nobody has."""
    item = _table().get(f"{merchant_pk(merchant_id)}#CLAIM#{name}", "CLAIM", consistent=True)
    return str(item["by"]) if item else None


def claim_item(merchant_id: str, name: str, owner_pk: str) -> dict[str, Any]:
    """The `claim_once` write as a TransactWriteItems operation."""
    from customer_hub.infra.store import serialize

    return {
        "Put": {
            "TableName": _table().name,
            "Item": serialize(
                {
                    "pk": f"{merchant_pk(merchant_id)}#CLAIM#{name}",
                    "sk": "CLAIM",
                    "by": owner_pk,
                    "expiration": int(_now() + KEEP_SECONDS),
                }
            ),
            "ConditionExpression": "attribute_not_exists(pk) OR #by = :by",
            "ExpressionAttributeNames": {"#by": "by"},
            "ExpressionAttributeValues": {":by": {"S": owner_pk}},
        }
    }


def complete_item(claim: Claim, response: dict[str, Any]) -> dict[str, Any]:
    """The `complete` write as a TransactWriteItems operation."""
    from customer_hub.infra.store import key, serialize_value

    return {
        "Update": {
            "TableName": _table().name,
            "Key": key(claim.pk, claim.sk),
            "UpdateExpression": "SET #status = :done, #response = :response, lease_until = :zero",
            "ConditionExpression": "#owner = :me",
            "ExpressionAttributeNames": {
                "#status": "status",
                "#response": "response",
                "#owner": "owner",
            },
            "ExpressionAttributeValues": {
                ":done": {"S": "completed"},
                ":response": {"S": json.dumps(response)},
                ":zero": serialize_value(0),
                ":me": {"S": claim.owner},
            },
        }
    }
