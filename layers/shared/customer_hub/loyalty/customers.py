"""A Smile customer as the hub stores it (`CustomerSnapshot`), the redemption guard's hold rule
(`live_holds`) and SPEC §8's choice among customers sharing an email. No I/O: the snapshot store
is `customer_hub.loyalty.snapshots`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from customer_hub.loyalty.models import SmileModel, VipStatus


class CustomerSnapshot(SmileModel):
    smile_customer_id: int
    email: str
    state: Literal["candidate", "member", "disabled"]
    points_balance: int = 0
    referral_url: str | None = None
    vip_status: VipStatus | None = None
    updated_at: str  # Smile's updated_at: the order of snapshots
    synced_at: str  # when we last read it from Smile
    # The redemption guard (hub-owned, never written by a snapshot write): see `live_holds`.
    holds: dict[str, Any] = Field(default_factory=dict, exclude=True)
    hold_version: int = Field(default=0, exclude=True)
    # The stored balance when `points_balance` shows what is left after the live holds.
    snapshot_balance: int | None = Field(default=None, exclude=True)

    def held_points(self, now: datetime) -> int:
        return sum(int(h["points"]) for h in live_holds(self.holds, self.synced_at, now).values())

    def with_holds_applied(self, now: datetime) -> CustomerSnapshot:
        """The shopper's view: the balance minus the points redemptions still hold."""
        balance = (
            self.snapshot_balance if self.snapshot_balance is not None else self.points_balance
        )
        return self.model_copy(
            update={
                "points_balance": max(0, balance - self.held_points(now)),
                "snapshot_balance": balance,
            }
        )


# A redemption's outcome at Smile is final this long after it began: the purchase request was
# sent within the function's 15 s and Smile's answer (or our 6 s read timeout) came long before.
# A snapshot read from Smile later than that shows whatever Smile did, so the hold stops
# counting; a hold that is never settled is dropped after the idempotency key's 24 h.
HOLD_OUTCOME_FINAL_SECONDS = 60
HOLD_MAX_SECONDS = 24 * 3600


def live_holds(holds: dict[str, Any], synced_at: str, now: datetime) -> dict[str, Any]:
    """The holds that still count against the balance of a snapshot synced at `synced_at`."""
    from customer_hub.infra import clock

    synced = clock.parse_iso(synced_at)
    live: dict[str, Any] = {}
    for hold_id, hold in (holds or {}).items():
        began = clock.parse_iso(str(hold["at"]))
        if now - began > timedelta(seconds=HOLD_MAX_SECONDS):
            continue
        if synced - began > timedelta(seconds=HOLD_OUTCOME_FINAL_SECONDS):
            continue  # this snapshot was read from Smile after the outcome was final
        live[hold_id] = hold
    return live


def choose_customer(customers: list[CustomerSnapshot]) -> CustomerSnapshot | None:
    """SPEC §8: with several Smile customers on one email, prefer `member`, then the lowest id."""
    if not customers:
        return None
    return min(customers, key=lambda c: (c.state != "member", c.smile_customer_id))
