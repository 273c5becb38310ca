"""Redeeming points for a coupon through Smile's purchase call (SPEC §3).

Smile has no idempotency key and no undo, so correctness is ours:

1. The `Idempotency-Key` record (`customer_hub.idempotency`) makes a repeated click replay the
   first answer; a crashed attempt's record is taken over once its lease lapses.
2. A points guard on the shopper's customer snapshot item holds the points of redemptions in
   flight (`reserved`, conditional writes against the snapshot balance), so concurrent
   redemptions never spend more than the balance; Smile's 422 is the last line of defence.
3. The intent is recorded before Smile is called; a retry of an attempt that died after
   Smile's purchase finds the fulfillment Smile issued (listed since the intent) instead of
   buying again.
4. A `pending` fulfillment is polled briefly; still pending, it is returned `pending` and
   completed later by a read or the sync.
5. Success debits the snapshot at once and records a `coupon_applied` hub interaction.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from customer_hub import clock, coupons, hub_events, idempotency, loyalty, shoppers
from customer_hub.config import config
from customer_hub.hub_events import HubEvent
from customer_hub.identity import Customer
from customer_hub.merchants import Merchant
from customer_hub.problems import (
    Forbidden,
    InsufficientPoints,
    NotFound,
    Problem,
    SmileNotConnected,
    UpstreamUnavailable,
    validation_error,
)
from customer_hub.smile_access import client_for
from customer_hub.snapshots import CouponRecord, CustomerSnapshot, PointsProduct, email_pk
from customer_hub.store import Table

if TYPE_CHECKING:
    from customer_hub.smile import RewardFulfillment, SmileClient

HOLD_SECONDS = 60  # a hold of a crashed attempt lapses after this (> the lease)
POLL_DELAYS = (0.1, 0.2, 0.4)  # waiting for a pending fulfillment to be issued
RECONCILE_SKEW = timedelta(seconds=30)


class RedeemBody(BaseModel):
    """`{}` for a fixed reward, `{"points_to_spend": 500}` for a variable one."""

    model_config = ConfigDict(extra="forbid")

    points_to_spend: int | None = Field(default=None, ge=1, strict=True)


class UpstreamFailed(UpstreamUnavailable):
    status = 502


@dataclass
class Hold:
    """Points held on one customer snapshot for one redemption in flight."""

    customer: CustomerSnapshot
    points: int
    balance: int
    updated_at: str


# ------------------------------------------------------------------ the points guard
def _customer_key(merchant_id: str, customer: CustomerSnapshot) -> tuple[str, str]:
    return email_pk(merchant_id, customer.email), f"CUSTOMER#{customer.smile_customer_id}"


def _data() -> Table:
    return Table(config().data_table)


def hold_points(merchant_id: str, customer: CustomerSnapshot, points: int) -> Hold:
    """Hold `points` unless the snapshot balance minus what is already held cannot pay them."""
    table = _data()
    pk, sk = _customer_key(merchant_id, customer)
    for _ in range(12):
        item = table.get(pk, sk, consistent=True)
        if item is None:
            raise Forbidden("This account is not a member of the loyalty program.")
        balance, updated = int(item.get("points_balance") or 0), str(item["updated_at"])
        until = str(item.get("reserve_until") or "")
        now = clock.now()
        lapsed = bool(until) and clock.parse_iso(until) < now
        held = 0 if lapsed else int(item.get("reserved") or 0)
        if points > balance - held:
            raise InsufficientPoints(
                f"This reward needs {points} points; {max(0, balance - held)} are available.",
                points_needed=points - max(0, balance - held),
            )
        values: dict[str, Any] = {
            ":c": points,
            ":b": balance,
            ":u": updated,
            ":until": clock.iso(now + timedelta(seconds=HOLD_SECONDS)),
        }
        if lapsed or "reserved" not in item:
            expression = "SET reserved = :c, reserve_until = :until"
            condition = "points_balance = :b AND updated_at = :u AND " + (
                "reserve_until = :old" if lapsed else "attribute_not_exists(reserved)"
            )
            if lapsed:
                values[":old"] = until
        else:
            expression = "SET reserved = reserved + :c, reserve_until = :until"
            condition = "points_balance = :b AND updated_at = :u AND reserved <= :limit"
            values[":limit"] = balance - points
        try:
            table.update(pk, sk, expression, values=values, condition=condition)
        except table._client.exceptions.ConditionalCheckFailedException:
            continue  # the snapshot or the holds changed: look again
        return Hold(customer, points, balance, updated)
    raise UpstreamUnavailable(
        "Too many redemptions at once; try again.", headers={"Retry-After": "1"}
    )


def release_hold(merchant_id: str, hold: Hold) -> None:
    table = _data()
    pk, sk = _customer_key(merchant_id, hold.customer)
    try:
        table.update(
            pk,
            sk,
            "SET reserved = reserved - :c",
            values={":c": hold.points},
            condition="reserved >= :c",
        )
    except table._client.exceptions.ConditionalCheckFailedException:
        return  # a sync replaced the snapshot (and its holds) meanwhile


def settle_hold(merchant_id: str, hold: Hold) -> None:
    """The points were spent at Smile: debit the snapshot now and drop the hold, unless a newer
    snapshot from Smile (which already reflects the purchase) replaced it meanwhile."""
    table = _data()
    pk, sk = _customer_key(merchant_id, hold.customer)
    values = {":c": hold.points, ":u": hold.updated_at}
    attempts = (
        (
            "SET points_balance = points_balance - :c, reserved = reserved - :c",
            " AND reserved >= :c",
        ),
        ("SET points_balance = points_balance - :c", ""),
    )
    for expression, extra in attempts:
        try:
            table.update(
                pk,
                sk,
                expression,
                values=values,
                condition="updated_at = :u AND points_balance >= :c" + extra,
            )
        except table._client.exceptions.ConditionalCheckFailedException:
            continue
        return


# ------------------------------------------------------------------ redemption
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


def _smile(merchant_id: str) -> SmileClient:
    smile = client_for(merchant_id, "purchase")
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


def _error_code(exc: Exception) -> str | None:
    """Smile's error code when its (undocumented) body has one: {"error": {"code": ...}}."""
    body = getattr(exc, "json", None)
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def _issued(smile: SmileClient, fulfillment: RewardFulfillment) -> RewardFulfillment:
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


def _reconcile(
    smile: SmileClient,
    merchant_id: str,
    claim: idempotency.Claim,
    intent: dict[str, Any],
) -> RewardFulfillment | None:
    """The fulfillment a previous attempt's purchase created, if Smile issued one.

    Candidates were created since the intent and are not claimed by another redemption (each
    purchase claims its fulfillment at once); the reward's name breaks ties.
    """
    since = clock.parse_iso(str(intent["at"])) - RECONCILE_SKEW
    listed = smile.list_reward_fulfillments(
        int(intent["smile_customer_id"]), updated_at_min=clock.iso(since)
    )
    fresh = [
        f
        for f in listed
        if f.fulfillment_status in ("pending", "issued")
        and (f.created_at is None or clock.parse_iso(f.created_at) >= since)
    ]
    fresh.sort(key=lambda f: (f.name != intent.get("reward_name"), f.id))
    for candidate in fresh:
        if idempotency.claim_once(merchant_id, f"FULFILLMENT#{candidate.id}", claim.sk):
            return candidate
    return None


def _finish(
    data: shoppers.ShopperData,
    shopper: Customer,
    claim: idempotency.Claim,
    hold: Hold,
    fulfillment: RewardFulfillment,
) -> dict[str, Any]:
    """The local write after Smile's purchase: coupon applied, balance debited, interaction."""
    merchant = data.merchant
    record: CouponRecord = fulfillment.coupon(shopper.shopify_customer_id)
    applied = coupons.mark_applied(
        merchant.merchant_id, shopper.email, shopper.shopify_customer_id, record
    )
    intent = claim.intent or {}
    if not intent.get("settled"):  # a retry after a crash past this point must not debit twice
        settle_hold(merchant.merchant_id, hold)
        idempotency.record_intent(claim, {**intent, "settled": True})
    hub_events.record(
        merchant.merchant_id,
        HubEvent(
            event_id="redeem-" + idempotency.fingerprint({"pk": claim.pk, "sk": claim.sk})[:32],
            type="coupon_applied",
            occurred_at=clock.iso(clock.now()),
            customer_id=shopper.shopify_customer_id,
            email=shopper.email,
            coupon_code=applied.code,
        ),
    )
    status = coupons.coupon_status(applied, clock.now(), merchant.cart_window_hours)
    code = applied.code
    shown = status if status in ("pending", "applied") else "applied"
    return {
        "coupon": coupons.coupon_json(applied, shown),
        "points_balance": max(0, hold.balance - hold.points),
        "apply_url": coupons.apply_url(merchant.shop_domain, code) if code else None,
    }


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
        # A problem answer, or a failure of our own (DynamoDB throttled, a lost answer): let
        # the key be used again at once. Without an intent Smile was never called, so the key
        # starts afresh; with one, the retry reconciles with what Smile issued since. Should the
        # clean-up fail too, the lease lapses and the same happens a little later.
        with contextlib.suppress(Exception):
            if claim.intent is None:
                idempotency.forget(claim)
            else:
                idempotency.release(claim)
        raise
    idempotency.complete(claim, response)
    return response, False


def _redeem_claimed(
    merchant: Merchant,
    shopper: Customer,
    product_id: str,
    body: RedeemBody,
    claim: idempotency.Claim,
) -> dict[str, Any]:
    from customer_hub.smile import SmileError, SmileNotFound, SmileUnprocessable

    data = shoppers.load(merchant, shopper)
    if data.state in ("excluded", "not_member") or data.customer is None:
        raise Forbidden("This account cannot redeem rewards in this loyalty program.")
    product = _product(data, product_id)
    points = _points(product, body)
    smile = _smile(merchant.merchant_id)
    with smile:
        previous = claim.intent
        if previous is not None:
            try:
                found = _reconcile(smile, merchant.merchant_id, claim, previous)
            except SmileError as exc:
                raise _upstream(exc) from exc
            if found is not None:
                hold = Hold(data.customer, points, int(previous["balance"]), previous["updated_at"])
                return _finish(data, shopper, claim, hold, _issued(smile, found))
        hold = hold_points(merchant.merchant_id, data.customer, points)
        try:
            idempotency.record_intent(
                claim,
                {
                    "at": clock.iso(clock.now()),
                    "smile_customer_id": data.customer.smile_customer_id,
                    "points": points,
                    "reward_name": product.reward.name,
                    "balance": hold.balance,
                    "updated_at": hold.updated_at,
                },
            )
        except Exception:
            # Smile was not called: give the points back now rather than when the hold lapses.
            with contextlib.suppress(Exception):
                release_hold(merchant.merchant_id, hold)
            raise
        try:
            purchase = smile.purchase(
                product.id,
                data.customer.smile_customer_id,
                body.points_to_spend if product.exchange_type == "variable" else None,
            )
        except SmileUnprocessable as exc:
            release_hold(merchant.merchant_id, hold)
            claim.record.pop("intent", None)
            if _error_code(exc) == "customer_disabled":
                raise Forbidden("This account is excluded from the loyalty program.") from exc
            raise InsufficientPoints(
                "Smile.io reports the balance cannot pay for this reward.",
                points_needed=max(1, points - data.customer.points_balance),
            ) from exc
        except SmileNotFound as exc:
            release_hold(merchant.merchant_id, hold)
            claim.record.pop("intent", None)
            raise NotFound("No such reward.") from exc
        except SmileError as exc:
            release_hold(merchant.merchant_id, hold)
            raise _upstream(exc) from exc
        idempotency.claim_once(
            merchant.merchant_id, f"FULFILLMENT#{purchase.reward_fulfillment.id}", claim.sk
        )
        fulfillment = _issued(smile, purchase.reward_fulfillment)
        return _finish(data, shopper, claim, hold, fulfillment)
