"""Redeeming points for a coupon through Smile's purchase call (SPEC §3, API.md "Uncertain
outcomes").

Smile's purchase has no idempotency key and no undo, so correctness is ours:

1. The `Idempotency-Key` record (`customer_hub.redemption.idempotency`) makes a repeated click
   replay the first answer; a crashed attempt's record is taken over once its lease lapses.
2. A **hold** on the shopper's customer snapshot item (`holds[<hold id>]`, the hold id derived
   from the idempotency record, so a retry with the same key finds it) holds the points of a
   redemption whose outcome is not settled, and is its intent: when it began, the points, the
   fulfillment name the purchase creates. Holds change under `hold_version` (conditional
   writes), so concurrent redemptions never spend more than the balance minus the live holds;
   every storefront balance excludes live holds (`CustomerSnapshot.with_holds_applied`) and
   snapshot writes never drop them (`snapshots.save_customer` is an UpdateItem).
3. Smile's answer is classified. Refused (4xx), 429, 503 or never reached: nothing was spent,
   the hold is released. Lost or ambiguous (timeout after the request was sent, reset,
   500/502/504, an unusable 2xx): the hold stays and the hub looks for the fulfillment that
   purchase created (`_reconcile`): same customer, same name (the reward, and for a variable
   reward its value, so the same points), created after the attempt began, claimed by no other
   redemption. Found → 201. Not found → 503 `redemption-unconfirmed`; the shopper's retry with
   the same key looks again. **"Not found" is conclusive only `HOLD_OUTCOME_FINAL_SECONDS`
   (60 s) after the attempt began**: the purchase request left within the function's 15 s
   timeout with a 6 s read timeout, so by then Smile has finished it or never will; a listing
   after that without the fulfillment proves Smile did not act, the hold is released and the
   retry buys now. It never buys twice.
4. Fulfillments of the same reward and points for the same customer are interchangeable: a
   reconciliation claims a free one only when more are free than other redemptions of that kind
   that may still claim their own (requests still within the 60 s), so a live request never
   finds its fulfillment taken; should one still find it taken (a request slower than that),
   it looks for a free one of the same kind as after a lost answer, never handing one out twice.
5. A `pending` fulfillment is polled briefly; still pending, it is returned `pending` and
   completed later by a read or the sync.
6. Success writes everything in one TransactWriteItems (fulfillment claim, coupon, code index,
   balance debit and hold removal, `coupon_applied` interaction while the hub is live, the
   idempotency answer); when a condition fails (a sync wrote meanwhile) the same writes are
   made one by one, the idempotency answer before the hold is removed.

The concerns live in their own modules: the idempotency record (`idempotency`, its port
`ledger`), the hold (`holds`), reconciliation after a lost answer (`reconciliation`) and the
writes of a success (`finishing`). Each store is a port with a DynamoDB adapter and an
in-memory fake (`memory`); `tests/unit/test_redemption.py` runs this protocol on the fakes.

The 201 `points_balance` is the balance after this redemption counting every other redemption
of the shopper done or in flight when its points were held (three concurrent 100 from 300
answer 200, 100 and 0).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from customer_hub.identity import Customer
from customer_hub.infra import clock
from customer_hub.loyalty import view as loyalty
from customer_hub.loyalty.snapshots import CustomerSnapshot, PointsProduct
from customer_hub.merchants.profiles import Merchant
from customer_hub.problems import (
    Forbidden,
    InsufficientPoints,
    NotFound,
    Problem,
    RedemptionUnconfirmed,
    SmileNotConnected,
    UpstreamUnavailable,
    validation_error,
)
from customer_hub.redemption import finishing, holds, idempotency, reconciliation
from customer_hub.redemption.finishing import FulfillmentTaken
from customer_hub.redemption.holds import Hold
from customer_hub.shoppers import reads as shoppers
from customer_hub.smile.access import client_for

if TYPE_CHECKING:
    from customer_hub.smile import SmileClient

log = logging.getLogger("customer_hub.redemption.protocol")

UNCONFIRMED_RETRY_AFTER = 3

# What redemption reads and calls outside its own stores; unit tests swap them for fakes.
load_shopper = shoppers.load
smile_for = client_for


class RedeemBody(BaseModel):
    """`{}` for a fixed reward, `{"points_to_spend": 500}` for a variable one."""

    model_config = ConfigDict(extra="forbid")

    points_to_spend: int | None = Field(default=None, ge=1, strict=True)


class UpstreamFailed(UpstreamUnavailable):
    status = 502


def _product(data: shoppers.ShopperData, product_id: str) -> PointsProduct:
    wanted = product_id.strip()
    for product in data.program.points_products:
        if str(product.id) == wanted:
            return product
    raise NotFound("No such reward.")


def _points(product: PointsProduct, body: RedeemBody) -> int:
    problem = loyalty.check_points_to_spend(product, body.points_to_spend)
    if problem is not None:
        raise validation_error(["body", "points_to_spend"], problem)
    if product.exchange_type == "fixed":
        return int(product.points_price or 0)
    return int(body.points_to_spend or 0)


def fulfillment_name(product: PointsProduct, points: int) -> str:
    """The name Smile gives the fulfillment of this purchase: the reward's, or for a variable
    reward its value ("$5 off coupon"), which also tells the points spent."""
    if product.exchange_type == "fixed":
        return product.reward.name
    steps = points // int(product.variable_points_step or 1)
    value = steps * float(product.variable_points_step_reward_value or 0)
    shown = int(value) if value == int(value) else value
    return f"${shown} off coupon"


def _smile(merchant_id: str) -> SmileClient:
    smile = smile_for(merchant_id, "purchase")
    if smile is None:
        raise SmileNotConnected("This shop's loyalty program is not connected.")
    return smile


def _upstream(exc: Exception) -> Problem:
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status >= 500 and status != 503:
        return UpstreamFailed(
            "Smile.io failed; no points were spent. Try again.", headers={"Retry-After": "2"}
        )
    return UpstreamUnavailable(
        "Smile.io is unavailable; no points were spent. Try again.", headers={"Retry-After": "2"}
    )


def _unconfirmed() -> RedemptionUnconfirmed:
    return RedemptionUnconfirmed(
        "Smile.io's answer was lost; your redemption is being confirmed and the points stay "
        "held. Try again with the same Idempotency-Key.",
        headers={"Retry-After": str(UNCONFIRMED_RETRY_AFTER)},
    )


def _error_code(exc: Exception) -> str | None:
    """Smile's error code when its (undocumented) body has one: {"error": {"code": ...}}."""
    body = getattr(exc, "json", None)
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def redeem(
    merchant: Merchant, shopper: Customer, product_id: str, body: RedeemBody, key: str
) -> tuple[dict[str, Any], bool]:
    """POST /rewards/{id}/redeem → (the 201 body, replayed?)."""
    request = {"points_product_id": product_id.strip(), **body.model_dump()}
    claim = idempotency.begin(
        merchant.merchant_id, shopper.shopify_customer_id, key, idempotency.fingerprint(request)
    )
    if claim.kind == "replay":
        return claim.response, True
    try:
        response = _redeem_claimed(merchant, shopper, product_id, body, claim)
    except Exception:
        # A problem answer (refused, unconfirmed) or a failure of our own: the key may be used
        # again at once. What a retry must reconcile is the hold on the customer item (found
        # by the key), not this record. Should the clean-up fail, the lease lapses instead.
        with contextlib.suppress(Exception):
            idempotency.forget(claim)
        raise
    if not claim.record.get("completed"):
        idempotency.complete(claim, response)
    return response, False


def _hold(
    data: shoppers.ShopperData,
    shopper: Customer,
    claim: idempotency.Claim,
    customer: CustomerSnapshot,
    product: PointsProduct,
    points: int,
    smile: SmileClient,
) -> Hold | dict[str, Any]:
    """This request's hold, or the 201 of a previous attempt with this key that Smile bought."""
    hold_id = holds.hold_id_of(claim)
    previous = customer.holds.get(hold_id)
    for _ in range(2):
        if previous is not None:
            settled = _settle_previous(data, shopper, claim, customer, hold_id, previous, smile)
            if settled is not None:
                return settled
        entry = {
            "at": clock.iso(clock.now()),
            "points": points,
            "name": fulfillment_name(product, points),
            "smile_customer_id": customer.smile_customer_id,
        }
        held = holds.hold_points(data.merchant.merchant_id, customer, hold_id, points, entry)
        if isinstance(held, Hold):
            return held
        previous = held  # an attempt with this key holds points: reconcile it first
    raise _unconfirmed()


def _redeem_claimed(
    merchant: Merchant,
    shopper: Customer,
    product_id: str,
    body: RedeemBody,
    claim: idempotency.Claim,
) -> dict[str, Any]:
    from customer_hub.smile import SmileError, SmileNotFound, SmileUnprocessable

    data = load_shopper(merchant, shopper)
    if data.state in ("excluded", "not_member") or data.customer is None:
        raise Forbidden("This account cannot redeem rewards in this loyalty program.")
    product = _product(data, product_id)
    points = _points(product, body)
    customer = data.customer
    smile = _smile(merchant.merchant_id)
    with smile:
        hold = _hold(data, shopper, claim, customer, product, points, smile)
        if not isinstance(hold, Hold):
            return hold
        try:
            purchase = smile.purchase(
                product.id,
                customer.smile_customer_id,
                body.points_to_spend if product.exchange_type == "variable" else None,
            )
        except SmileUnprocessable as exc:
            holds.release_hold(merchant.merchant_id, customer, hold.hold_id)
            if _error_code(exc) == "customer_disabled":
                raise Forbidden("This account is excluded from the loyalty program.") from exc
            raise InsufficientPoints(
                "Smile.io reports the balance cannot pay for this reward.",
                points_needed=max(1, points - customer.points_balance),
            ) from exc
        except SmileNotFound as exc:
            holds.release_hold(merchant.merchant_id, customer, hold.hold_id)
            raise NotFound("No such reward.") from exc
        except SmileError as exc:
            if not exc.maybe_acted:
                holds.release_hold(merchant.merchant_id, customer, hold.hold_id)
                raise _upstream(exc) from exc
            log.warning("smile purchase answer lost", extra={"error": str(exc)})
            return _after_lost_answer(data, shopper, claim, customer, hold, smile)
        fulfillment = reconciliation.issued(smile, purchase.reward_fulfillment)
        try:
            return finishing.finish(data, shopper, claim, customer, hold, fulfillment)
        except FulfillmentTaken:
            # Another key's reconciliation adopted this one (interchangeable, docstring 4):
            # its own purchase is ours to find, as after a lost answer; never hand out twice.
            log.warning("fulfillment adopted by another redemption", extra={"id": fulfillment.id})
            return _after_lost_answer(data, shopper, claim, customer, hold, smile)


def _after_lost_answer(
    data: shoppers.ShopperData,
    shopper: Customer,
    claim: idempotency.Claim,
    customer: CustomerSnapshot,
    hold: Hold,
    smile: SmileClient,
) -> dict[str, Any]:
    """Smile may have spent the points: find its fulfillment now, or say it is being confirmed."""
    from customer_hub.smile import SmileError

    merchant_id = data.merchant.merchant_id
    holds.mark_unconfirmed(merchant_id, customer, hold.hold_id)
    for delay in reconciliation.RECONCILE_POLLS:
        time.sleep(delay)
        try:
            found = reconciliation.reconcile(
                smile, merchant_id, claim, customer, hold.hold_id, hold.entry
            )
        except SmileError:
            continue
        if not isinstance(found, str):
            fulfillment = reconciliation.issued(smile, found)
            return finishing.finish(data, shopper, claim, customer, hold, fulfillment, claimed=True)
    raise _unconfirmed()


def _settle_previous(
    data: shoppers.ShopperData,
    shopper: Customer,
    claim: idempotency.Claim,
    customer: CustomerSnapshot,
    hold_id: str,
    entry: dict[str, Any],
    smile: SmileClient,
) -> dict[str, Any] | None:
    """A previous attempt with this key holds points: its 201 if Smile bought, None when Smile
    proved not to have bought (the hold is released and the caller buys now); else 503."""
    from customer_hub.smile import SmileError

    merchant_id = data.merchant.merchant_id
    try:
        found = reconciliation.reconcile(smile, merchant_id, claim, customer, hold_id, entry)
    except SmileError as exc:
        raise _unconfirmed() from exc
    if found == reconciliation.NOT_BOUGHT:
        holds.release_hold(merchant_id, customer, hold_id)
        return None
    if found == reconciliation.UNKNOWN or isinstance(found, str):
        raise _unconfirmed()
    points = int(entry["points"])
    # The balance now, this redemption's points still held (or already in Smile's balance).
    hold = Hold(hold_id, points, customer.points_balance, entry)
    fulfillment = reconciliation.issued(smile, found)
    return finishing.finish(data, shopper, claim, customer, hold, fulfillment, claimed=True)
