"""What a purchase whose answer was lost did at Smile (`customer_hub.redemption.protocol`
docstring, 3 to 5): find its fulfillment, adopt an interchangeable one, or tell that Smile did
not buy; and wait briefly for a pending fulfillment to be issued."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from customer_hub.infra import clock
from customer_hub.loyalty import snapshots
from customer_hub.loyalty.snapshots import CustomerSnapshot
from customer_hub.redemption import idempotency
from customer_hub.redemption.holds import read_customer

if TYPE_CHECKING:
    from customer_hub.smile import RewardFulfillment, SmileClient

POLL_DELAYS = (0.1, 0.2, 0.4)  # waiting for a pending fulfillment to be issued
RECONCILE_POLLS = (0.0, 0.3)  # looking for the fulfillment right after a lost answer
RECONCILE_SKEW = timedelta(seconds=5)  # our clock against Smile's `created_at`

NOT_BOUGHT: Literal["not-bought"] = "not-bought"
UNKNOWN: Literal["unknown"] = "unknown"


def issued(smile: SmileClient, fulfillment: RewardFulfillment) -> RewardFulfillment:
    """Poll a pending fulfillment briefly; return the last state seen."""
    from customer_hub.smile import SmileError

    for delay in POLL_DELAYS:
        if fulfillment.fulfillment_status != "pending":
            return fulfillment
        time.sleep(delay)
        try:
            found = smile.get_reward_fulfillment(fulfillment.id, fulfillment.customer_id)
        except SmileError:
            return fulfillment
        fulfillment = found or fulfillment
    return fulfillment


def _candidates(smile: SmileClient, entry: dict[str, Any], since: Any) -> list[RewardFulfillment]:
    """The customer's fulfillments this attempt may have created, oldest id first."""
    listed = smile.list_reward_fulfillments(
        int(entry["smile_customer_id"]), updated_at_min=clock.iso(since)
    )
    found = [
        f
        for f in listed
        if f.customer_id == int(entry["smile_customer_id"])
        and f.name == entry["name"]
        and f.fulfillment_status in ("pending", "issued")
        and f.created_at is not None
        and clock.parse_iso(f.created_at) >= since
    ]
    return sorted(found, key=lambda f: f.id)


def _rivals(current: CustomerSnapshot | None, hold_id: str, entry: dict[str, Any], now: Any) -> int:
    """Other live requests of the same kind that may still claim their own fulfillment."""
    final = snapshots.HOLD_OUTCOME_FINAL_SECONDS
    return sum(
        1
        for k, h in (current.holds if current else {}).items()
        if k != hold_id
        and h.get("name") == entry["name"]
        and int(h["points"]) == int(entry["points"])
        and not h.get("spent")
        and not h.get("unconfirmed")
        and (now - clock.parse_iso(str(h["at"]))).total_seconds() < final
    )


def reconcile(
    smile: SmileClient,
    merchant_id: str,
    claim: idempotency.Claim,
    customer: CustomerSnapshot,
    hold_id: str,
    entry: dict[str, Any],
) -> RewardFulfillment | Literal["not-bought", "unknown"]:
    """What the attempt recorded in `entry` did at Smile (protocol docstring, 3 and 4)."""
    began = clock.parse_iso(str(entry["at"]))
    since = began - RECONCILE_SKEW
    free: list[RewardFulfillment] = []
    for candidate in _candidates(smile, entry, since):
        holder = idempotency.claim_holder(merchant_id, f"FULFILLMENT#{candidate.id}")
        if holder == claim.sk:
            return candidate  # claimed by an earlier attempt of this very redemption
        if holder is None:
            free.append(candidate)
    # Read the holds after listing: a purchase whose fulfillment was listed held points first.
    now = clock.now()
    current = read_customer(merchant_id, customer)
    if len(free) > _rivals(current, hold_id, entry, now):
        for candidate in free:
            if idempotency.claim_once(merchant_id, f"FULFILLMENT#{candidate.id}", claim.sk):
                return candidate
    final = (now - began).total_seconds() >= snapshots.HOLD_OUTCOME_FINAL_SECONDS
    if final and not free:
        return NOT_BOUGHT
    return UNKNOWN
