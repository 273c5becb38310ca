"""Freshness of a shopper's snapshot: refresh that one customer from Smile within a budget.

A read whose snapshot is older than `SNAPSHOT_MAX_AGE_SECONDS` (default 10 minutes) asks Smile
for the customer (and, when the shopper has coupons Smile is still issuing, for their
fulfillments) within `READ_BUDGET_SECONDS` in all, and stores what it learns; when Smile is slow
or down the read is served from the snapshot, whose `synced_at` tells the UI how old it is.

A logged-in shopper with no snapshot at all (a new Smile member the sync has not reached yet)
is looked up in Smile by email within the same budget, through the shared Smile limiter: found,
the customer is stored and shown at once; not found, a `LOOKUP` note in the email partition
(read with the snapshot, no extra request) keeps the next views of any container from asking
Smile again for `LOOKUP_MISS_SECONDS`.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from customer_hub.identity import Customer
from customer_hub.infra import clock
from customer_hub.loyalty.snapshots import (
    CouponRecord,
    CustomerSnapshot,
    choose_customer,
    save_coupon,
    save_customer,
    save_lookup_miss,
)
from customer_hub.merchants.profiles import Merchant
from customer_hub.smile.access import READ_BUDGET_SECONDS, client_for

if TYPE_CHECKING:
    from customer_hub.smile import SmileClient

DEFAULT_MAX_AGE_SECONDS = 600
LOOKUP_MISS_SECONDS = 120
MIN_SECONDS_FOR_SECOND_CALL = 0.6

logger = Logger()


def max_age_seconds() -> float:
    return float(os.environ.get("SNAPSHOT_MAX_AGE_SECONDS") or DEFAULT_MAX_AGE_SECONDS)


def is_stale(customer: CustomerSnapshot | None) -> bool:
    if customer is None:
        return False
    age = (clock.now() - clock.parse_iso(customer.synced_at)).total_seconds()
    return age > max_age_seconds()


def should_look_up(customer: CustomerSnapshot | None, looked_up_at: str | None) -> bool:
    """No snapshot, and no recent Smile lookup that found nobody with this email."""
    if customer is not None:
        return False
    if looked_up_at is None:
        return True
    age = (clock.now() - clock.parse_iso(looked_up_at)).total_seconds()
    return not 0 <= age < LOOKUP_MISS_SECONDS


def refreshed(
    merchant: Merchant,
    shopper: Customer,
    customer: CustomerSnapshot | None,
    coupons: list[CouponRecord],
    looked_up_at: str | None = None,
) -> tuple[CustomerSnapshot | None, list[CouponRecord]]:
    """The customer and coupons, refreshed from Smile when stale or pending, or looked up by
    email when the shopper has no snapshot yet (best effort)."""
    pending = [c for c in coupons if c.fulfillment_status == "pending"]
    stale = is_stale(customer)
    lookup = should_look_up(customer, looked_up_at)
    if not stale and not pending and not lookup:
        return customer, coupons
    smile = client_for(merchant.merchant_id, "read")
    if smile is None:
        return customer, coupons
    from customer_hub.smile import SmileError

    deadline = time.monotonic() + READ_BUDGET_SECONDS
    with smile:
        try:
            if stale and customer is not None:
                customer = _refresh_customer(merchant, shopper, customer, smile)
            elif lookup:
                customer = _look_up(merchant, shopper, smile)
            if pending and deadline - time.monotonic() >= MIN_SECONDS_FOR_SECOND_CALL:
                coupons = _complete_pending(merchant, shopper, coupons, pending, smile)
        except SmileError as exc:
            logger.info("serving the snapshot: Smile refresh failed", extra={"error": str(exc)})
        except ValueError as exc:
            logger.warning("Smile answer not usable", extra={"error": str(exc)})
    return customer, coupons


def _refresh_customer(
    merchant: Merchant, shopper: Customer, customer: CustomerSnapshot, smile: SmileClient
) -> CustomerSnapshot | None:
    fresh = smile.get_customer(customer.smile_customer_id)
    snapshot: CustomerSnapshot = fresh.snapshot(clock.iso(clock.now()))
    save_customer(merchant.merchant_id, snapshot)
    if snapshot.email != shopper.email:
        return None  # the Smile customer moved to another email: not this shopper's any more
    return snapshot


def _look_up(merchant: Merchant, shopper: Customer, smile: SmileClient) -> CustomerSnapshot | None:
    """Smile's customers with the shopper's email, stored; None (noted) when there are none."""
    now = clock.now()
    found = [c.snapshot(clock.iso(now)) for c in smile.find_customers_by_email(shopper.email)]
    for snapshot in found:
        save_customer(merchant.merchant_id, snapshot)
    if not found:
        expires = int(now.timestamp()) + LOOKUP_MISS_SECONDS + 3600
        save_lookup_miss(merchant.merchant_id, shopper.email, clock.iso(now), expires)
    return choose_customer(found)


def _complete_pending(
    merchant: Merchant,
    shopper: Customer,
    coupons: list[CouponRecord],
    pending: list[CouponRecord],
    smile: SmileClient,
) -> list[CouponRecord]:
    by_id = {c.fulfillment_id: c for c in coupons}
    for customer_id in sorted({c.smile_customer_id for c in pending}):
        since = min(c.updated_at for c in pending if c.smile_customer_id == customer_id)
        listed = smile.list_reward_fulfillments(customer_id, updated_at_min=since)
        for fulfillment in listed:
            known = by_id.get(fulfillment.id)
            if known is None or known.fulfillment_status != "pending":
                continue
            update = fulfillment.coupon(known.shopify_customer_id)
            update = update.model_copy(update={"applied_at": known.applied_at})
            save_coupon(merchant.merchant_id, shopper.email, update)
            by_id[fulfillment.id] = update
    return list(by_id.values())
