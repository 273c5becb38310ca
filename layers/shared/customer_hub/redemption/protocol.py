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

The 201 `points_balance` is the balance after this redemption counting every other redemption
of the shopper done or in flight when its points were held (three concurrent 100 from 300
answer 200, 100 and 0).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from customer_hub.identity import Customer
from customer_hub.infra import clock
from customer_hub.infra.config import config
from customer_hub.infra.store import Table
from customer_hub.loyalty import snapshots
from customer_hub.loyalty import view as loyalty
from customer_hub.loyalty.snapshots import (
    HOLD_OUTCOME_FINAL_SECONDS,
    CouponRecord,
    CustomerSnapshot,
    PointsProduct,
    email_pk,
)
from customer_hub.merchants.profiles import Merchant
from customer_hub.metrics import hub_events
from customer_hub.metrics.hub_events import HubEvent
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
from customer_hub.redemption import idempotency
from customer_hub.shoppers import coupons
from customer_hub.shoppers import reads as shoppers
from customer_hub.smile.access import client_for

if TYPE_CHECKING:
    from customer_hub.smile import RewardFulfillment, SmileClient

log = logging.getLogger("customer_hub.redemption.protocol")

POLL_DELAYS = (0.1, 0.2, 0.4)  # waiting for a pending fulfillment to be issued
RECONCILE_POLLS = (0.0, 0.3)  # looking for the fulfillment right after a lost answer
RECONCILE_SKEW = timedelta(seconds=5)  # our clock against Smile's `created_at`
UNCONFIRMED_RETRY_AFTER = 3
HOLD_ATTEMPTS = 40


class RedeemBody(BaseModel):
    """`{}` for a fixed reward, `{"points_to_spend": 500}` for a variable one."""

    model_config = ConfigDict(extra="forbid")

    points_to_spend: int | None = Field(default=None, ge=1, strict=True)


class UpstreamFailed(UpstreamUnavailable):
    status = 502


@dataclass
class Hold:
    """Points held on one customer snapshot item for one redemption."""

    hold_id: str
    points: int
    balance_after: int  # the 201 answer: the balance once this and earlier holds are spent
    entry: dict[str, Any]


class FulfillmentTaken(Exception):
    """The fulfillment Smile answered with was claimed by another redemption meanwhile."""


NOT_BOUGHT: Literal["not-bought"] = "not-bought"
UNKNOWN: Literal["unknown"] = "unknown"


# ------------------------------------------------------------------ the points guard
def _data() -> Table:
    return Table(config().data_table)


def _customer_key(merchant_id: str, customer: CustomerSnapshot) -> tuple[str, str]:
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
    pk, sk = _customer_key(merchant_id, customer)
    item = _data().get(pk, sk, consistent=True)
    return CustomerSnapshot.model_validate(item) if item else None


def hold_points(
    merchant_id: str, customer: CustomerSnapshot, hold_id: str, points: int, entry: dict[str, Any]
) -> Hold | dict[str, Any]:
    """Hold `points` unless the balance minus the live holds cannot pay them.

    Returns the Hold, or the existing entry when this hold id already holds points (a previous
    attempt with the same key, seen by a consistent read).
    """
    table = _data()
    pk, sk = _customer_key(merchant_id, customer)
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
        values: dict[str, Any] = {
            ":holds": holds,
            ":next": current.hold_version + 1,
            ":b": current.points_balance,
            ":s": current.synced_at,
        }
        condition = "points_balance = :b AND synced_at = :s AND "
        if current.hold_version:
            condition += "hold_version = :v"
            values[":v"] = current.hold_version
        else:
            condition += "attribute_not_exists(hold_version)"
        try:
            table.update(
                pk,
                sk,
                "SET holds = :holds, hold_version = :next",
                values=values,
                condition=condition,
            )
        except table._client.exceptions.ConditionalCheckFailedException:
            # The snapshot or the holds changed: look again (a little apart under contention).
            if attempt > 2:
                time.sleep(random.uniform(0, 0.02 * min(attempt, 10)))
            current = read_customer(merchant_id, customer)
            continue
        return Hold(hold_id, points, available - points, entry)
    raise UpstreamUnavailable(
        "Too many redemptions at once; try again.", headers={"Retry-After": "1"}
    )


def release_hold(merchant_id: str, customer: CustomerSnapshot, hold_id: str) -> None:
    """Nothing was spent: the held points count again."""
    table = _data()
    pk, sk = _customer_key(merchant_id, customer)
    with contextlib.suppress(table._client.exceptions.ConditionalCheckFailedException):
        table.update(
            pk,
            sk,
            "REMOVE holds.#h SET hold_version = hold_version + :one",
            values={":one": 1},
            names={"#h": hold_id},
            condition="attribute_exists(holds.#h)",
        )


def _settle_expression(debit: bool) -> tuple[str, str]:
    """Spent at Smile. While the snapshot is the one the points were held against, debit it and
    drop the hold. A newer snapshot may or may not show the purchase: the hold is kept, marked
    spent, and counts until a snapshot read after the outcome was final replaces it."""
    if debit:
        return (
            "SET points_balance = points_balance - :c, hold_version = hold_version + :one "
            "REMOVE holds.#h",
            "attribute_exists(holds.#h) AND synced_at = :s AND points_balance >= :c",
        )
    return (
        "SET holds.#h.spent = :yes, hold_version = hold_version + :one",
        "attribute_exists(holds.#h)",
    )


def settle_hold(merchant_id: str, customer: CustomerSnapshot, hold: Hold) -> None:
    """The points were spent at Smile (`_settle_expression`)."""
    table = _data()
    pk, sk = _customer_key(merchant_id, customer)
    for debit in (True, False):
        expression, condition = _settle_expression(debit)
        values: dict[str, Any] = {":one": 1}
        if debit:
            values.update({":c": hold.points, ":s": str(hold.entry.get("synced"))})
        else:
            values[":yes"] = True
        try:
            table.update(
                pk, sk, expression, values=values, names={"#h": hold.hold_id}, condition=condition
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
    customer: CustomerSnapshot,
    hold_id: str,
    entry: dict[str, Any],
) -> RewardFulfillment | Literal["not-bought", "unknown"]:
    """What the attempt recorded in `entry` did at Smile (module docstring, 3 and 4)."""
    began = clock.parse_iso(str(entry["at"]))
    since = began - RECONCILE_SKEW
    listed = smile.list_reward_fulfillments(
        int(entry["smile_customer_id"]), updated_at_min=clock.iso(since)
    )
    candidates = [
        f
        for f in listed
        if f.customer_id == int(entry["smile_customer_id"])
        and f.name == entry["name"]
        and f.fulfillment_status in ("pending", "issued")
        and f.created_at is not None
        and clock.parse_iso(f.created_at) >= since
    ]
    free: list[RewardFulfillment] = []
    for candidate in sorted(candidates, key=lambda f: f.id):
        holder = idempotency.claim_holder(merchant_id, f"FULFILLMENT#{candidate.id}")
        if holder == claim.sk:
            return candidate  # claimed by an earlier attempt of this very redemption
        if holder is None:
            free.append(candidate)
    # Read the holds after listing: a purchase whose fulfillment was listed held points first.
    now = clock.now()
    current = read_customer(merchant_id, customer)
    others = [
        h
        for k, h in (current.holds if current else {}).items()
        if k != hold_id
        and h.get("name") == entry["name"]
        and int(h["points"]) == int(entry["points"])
        and not h.get("spent")
        and not h.get("unconfirmed")
        and (now - clock.parse_iso(str(h["at"]))).total_seconds() < HOLD_OUTCOME_FINAL_SECONDS
    ]
    if len(free) > len(others):
        for candidate in free:
            if idempotency.claim_once(merchant_id, f"FULFILLMENT#{candidate.id}", claim.sk):
                return candidate
    final = (now - began).total_seconds() >= HOLD_OUTCOME_FINAL_SECONDS
    if final and not free:
        return NOT_BOUGHT
    return UNKNOWN


def _coupon_event(
    merchant: Merchant, claim: idempotency.Claim, shopper: Customer, code: str | None
) -> HubEvent:
    return HubEvent(
        event_id="redeem-" + idempotency.fingerprint({"pk": claim.pk, "sk": claim.sk})[:32],
        type="coupon_applied",
        occurred_at=clock.iso(clock.now()),
        customer_id=shopper.shopify_customer_id,
        email=shopper.email,
        coupon_code=code,
    )


def _finish(
    data: shoppers.ShopperData,
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
    event = _coupon_event(merchant, claim, shopper, code) if live and code else None
    if _finish_at_once(data, shopper, claim, customer, hold, applied, event, response):
        claim.record["completed"] = True
        return response
    if not claimed and not idempotency.claim_once(
        merchant.merchant_id, f"FULFILLMENT#{fulfillment.id}", claim.sk
    ):
        raise FulfillmentTaken(fulfillment.id)
    coupons.mark_applied(merchant.merchant_id, shopper.email, shopper.shopify_customer_id, record)
    if event is not None:
        hub_events.record(merchant.merchant_id, event)
    # The answer first: a crash between the two leaves the hold counted (the balance it shows
    # is the debited one) rather than a key whose retry would buy again.
    idempotency.complete(claim, response)
    claim.record["completed"] = True
    settle_hold(merchant.merchant_id, customer, hold)
    return response


def _finish_at_once(
    data: shoppers.ShopperData,
    shopper: Customer,
    claim: idempotency.Claim,
    customer: CustomerSnapshot,
    hold: Hold,
    coupon: CouponRecord,
    event: HubEvent | None,
    response: dict[str, Any],
) -> bool:
    """Every write of a success in one TransactWriteItems; False when a condition failed."""
    from botocore.exceptions import ClientError

    from customer_hub.infra.store import key, serialize_value

    merchant_id = data.merchant.merchant_id
    email = shopper.email
    expression, condition = _settle_expression(debit=True)
    pk, sk = _customer_key(merchant_id, customer)
    operations: list[dict[str, Any]] = [
        idempotency.claim_item(merchant_id, f"FULFILLMENT#{coupon.fulfillment_id}", claim.sk),
        snapshots.coupon_write(email_pk(merchant_id, email), coupon),
        snapshots.coupon_write(
            snapshots.shopper_pk(merchant_id, shopper.shopify_customer_id), coupon
        ),
        {
            "Update": {
                "TableName": _data().name,
                "Key": key(pk, sk),
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#h": hold.hold_id},
                "ExpressionAttributeValues": {
                    ":one": serialize_value(1),
                    ":c": serialize_value(hold.points),
                    ":s": serialize_value(str(hold.entry.get("synced"))),
                },
            }
        },
        idempotency.complete_item(claim, response),
    ]
    index = snapshots.code_index_write(merchant_id, email, coupon)
    if index is not None:
        operations.append(index)
    if event is not None:
        operations.append(hub_events.record_write(merchant_id, event))
    try:
        _data().transact_write(operations)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        return False
    return True


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
    customer = data.customer
    hold_id = hold_id_of(claim)
    smile = _smile(merchant.merchant_id)
    with smile:
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
            held = hold_points(merchant.merchant_id, customer, hold_id, points, entry)
            if isinstance(held, Hold):
                break
            previous = held  # an attempt with this key holds points: reconcile it first
        else:
            raise _unconfirmed()
        hold = held
        try:
            purchase = smile.purchase(
                product.id,
                customer.smile_customer_id,
                body.points_to_spend if product.exchange_type == "variable" else None,
            )
        except SmileUnprocessable as exc:
            release_hold(merchant.merchant_id, customer, hold_id)
            if _error_code(exc) == "customer_disabled":
                raise Forbidden("This account is excluded from the loyalty program.") from exc
            raise InsufficientPoints(
                "Smile.io reports the balance cannot pay for this reward.",
                points_needed=max(1, points - customer.points_balance),
            ) from exc
        except SmileNotFound as exc:
            release_hold(merchant.merchant_id, customer, hold_id)
            raise NotFound("No such reward.") from exc
        except SmileError as exc:
            if not exc.maybe_acted:
                release_hold(merchant.merchant_id, customer, hold_id)
                raise _upstream(exc) from exc
            log.warning("smile purchase answer lost", extra={"error": str(exc)})
            return _after_lost_answer(data, shopper, claim, customer, hold, smile)
        fulfillment = _issued(smile, purchase.reward_fulfillment)
        try:
            return _finish(data, shopper, claim, customer, hold, fulfillment)
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

    # This request is over: its hold no longer stands for a live request that will claim its
    # own fulfillment (`_reconcile`), whoever settles it later.
    table = _data()
    pk, sk = _customer_key(data.merchant.merchant_id, customer)
    with contextlib.suppress(table._client.exceptions.ConditionalCheckFailedException):
        table.update(
            pk,
            sk,
            "SET holds.#h.unconfirmed = :yes",
            values={":yes": True},
            names={"#h": hold.hold_id},
            condition="attribute_exists(holds.#h)",
        )
    for delay in RECONCILE_POLLS:
        time.sleep(delay)
        try:
            found = _reconcile(
                smile, data.merchant.merchant_id, claim, customer, hold.hold_id, hold.entry
            )
        except SmileError:
            continue
        if not isinstance(found, str):
            return _finish(
                data, shopper, claim, customer, hold, _issued(smile, found), claimed=True
            )
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
        found = _reconcile(smile, merchant_id, claim, customer, hold_id, entry)
    except SmileError as exc:
        raise _unconfirmed() from exc
    if found == NOT_BOUGHT:
        release_hold(merchant_id, customer, hold_id)
        return None
    if found == UNKNOWN or isinstance(found, str):
        raise _unconfirmed()
    points = int(entry["points"])
    # The balance now, this redemption's points still held (or already in Smile's balance).
    hold = Hold(hold_id, points, customer.points_balance, entry)
    return _finish(data, shopper, claim, customer, hold, _issued(smile, found), claimed=True)
