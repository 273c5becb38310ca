"""The local writes after Smile's purchase (`customer_hub.redemption.protocol` docstring, 6):
all at once in one transaction, else one by one with the idempotency answer before the hold is
settled. The writes go through the `SuccessWrites` port: `DynamoWrites` (TransactWriteItems over
the idempotency, data and events tables), `customer_hub.redemption.memory.MemoryWrites` in
unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from customer_hub.identity import Customer
from customer_hub.infra import clock
from customer_hub.infra.config import config
from customer_hub.infra.store import Table
from customer_hub.loyalty.coupon_store import DynamoCoupons
from customer_hub.loyalty.keys import shopper_pk
from customer_hub.loyalty.snapshots import CouponRecord, CustomerSnapshot, email_pk
from customer_hub.metrics import hub_events
from customer_hub.metrics.hub_events import HubEvent
from customer_hub.redemption import holds, idempotency
from customer_hub.redemption.holds import DynamoHolds, Hold, customer_key
from customer_hub.redemption.ledger import DynamoLedger
from customer_hub.shoppers import coupons

if TYPE_CHECKING:
    from customer_hub.shoppers.reads import ShopperData
    from customer_hub.smile import RewardFulfillment


class FulfillmentTaken(Exception):
    """The fulfillment Smile answered with was claimed by another redemption meanwhile."""


@dataclass
class Success:
    """Everything a redemption that Smile bought writes."""

    merchant_id: str
    shopper: Customer
    claim: idempotency.Claim
    snapshot: tuple[str, str]  # the customer snapshot item holding the hold
    hold: Hold
    coupon: CouponRecord  # applied now
    event: HubEvent | None  # the coupon_applied interaction, while the hub is live
    response: dict[str, Any]


class SuccessWrites(Protocol):
    def all_at_once(self, success: Success) -> bool:
        """Claim the fulfillment, store the coupon (both shopper partitions and the code
        index), debit the hold, record the event and the idempotency answer, in one
        transaction; False (nothing written) when a condition failed."""
        ...

    def coupon_applied(
        self, merchant_id: str, email: str, shopify_customer_id: str, coupon: CouponRecord
    ) -> None: ...

    def event(self, merchant_id: str, event: HubEvent) -> None: ...


class DynamoWrites:
    def all_at_once(self, success: Success) -> bool:
        merchant_id, email = success.merchant_id, success.shopper.email
        coupon, hold, claim = success.coupon, success.hold, success.claim
        ledger, coupons = DynamoLedger(), DynamoCoupons()
        operations: list[dict[str, Any]] = [
            ledger.claim_write(
                idempotency.claim_pk(merchant_id, f"FULFILLMENT#{coupon.fulfillment_id}"),
                claim.sk,
                idempotency.claim_expiration(),
            ),
            coupons.save_write(email_pk(merchant_id, email), coupon),
            coupons.save_write(
                shopper_pk(merchant_id, success.shopper.shopify_customer_id), coupon
            ),
            DynamoHolds().debit_write(
                *success.snapshot, hold.hold_id, hold.points, str(hold.entry.get("synced"))
            ),
            ledger.set_if_owner_write(
                claim.pk, claim.sk, claim.owner, idempotency.completed_fields(success.response)
            ),
        ]
        index = coupons.code_index_write(merchant_id, email, coupon)
        if index is not None:
            operations.append(index)
        if success.event is not None:
            operations.append(hub_events.record_write(merchant_id, success.event))
        return Table(config().data_table).transact_write_if(operations)

    def coupon_applied(
        self, merchant_id: str, email: str, shopify_customer_id: str, coupon: CouponRecord
    ) -> None:
        coupons.mark_applied(merchant_id, email, shopify_customer_id, coupon)

    def event(self, merchant_id: str, event: HubEvent) -> None:
        hub_events.record(merchant_id, event)


# The port `finish` uses: DynamoDB in every function, a fake in unit tests.
writes: SuccessWrites = DynamoWrites()


def _coupon_event(claim: idempotency.Claim, shopper: Customer, code: str | None) -> HubEvent:
    return HubEvent(
        event_id="redeem-" + idempotency.fingerprint({"pk": claim.pk, "sk": claim.sk})[:32],
        type="coupon_applied",
        occurred_at=clock.iso(clock.now()),
        customer_id=shopper.shopify_customer_id,
        email=shopper.email,
        coupon_code=code,
    )


def finish(
    data: ShopperData,
    shopper: Customer,
    claim: idempotency.Claim,
    customer: CustomerSnapshot,
    hold: Hold,
    fulfillment: RewardFulfillment,
    *,
    claimed: bool = False,
) -> dict[str, Any]:
    """The local writes after Smile's purchase; the idempotency answer is written here too."""
    merchant = data.merchant
    now = clock.now()
    record: CouponRecord = fulfillment.coupon(shopper.shopify_customer_id)
    applied = record.model_copy(update={"applied_at": clock.iso(now)})
    status = coupons.coupon_status(applied, now, merchant.cart_window_hours)
    shown = status if status in ("pending", "applied") else "applied"
    code = applied.code
    response = {
        "coupon": coupons.coupon_json(applied, shown),
        "points_balance": max(0, hold.balance_after),
        "apply_url": coupons.apply_url(merchant.shop_domain, code) if code else None,
    }
    # SPEC §6.5: no interaction is recorded while the hub is not live. A coupon Smile is still
    # issuing has no code yet: the drawer applies it once issued (POST /coupons/{id}/apply),
    # which records the coupon_applied with its code for the attribution rule.
    live = merchant.hub_status == "live"
    event = _coupon_event(claim, shopper, code) if live and code else None
    snapshot = customer_key(merchant.merchant_id, customer)
    success = Success(
        merchant.merchant_id, shopper, claim, snapshot, hold, applied, event, response
    )
    if writes.all_at_once(success):
        claim.record["completed"] = True
        return response
    if not claimed and not idempotency.claim_once(
        merchant.merchant_id, f"FULFILLMENT#{fulfillment.id}", claim.sk
    ):
        raise FulfillmentTaken(fulfillment.id)
    writes.coupon_applied(merchant.merchant_id, shopper.email, shopper.shopify_customer_id, record)
    if event is not None:
        writes.event(merchant.merchant_id, event)
    # The answer first: a crash between the two leaves the hold counted (the balance it shows
    # is the debited one) rather than a key whose retry would buy again.
    idempotency.complete(claim, response)
    claim.record["completed"] = True
    holds.settle_hold(merchant.merchant_id, customer, hold)
    return response
