"""What the storefront routes read for one shopper: the program, their Smile customer and coupons.

A warm read costs one DynamoDB request (the shopper's email partition; the shopper partition,
the merchant profile and the program are cached in the warm container for a bounded age).
A snapshot older than `SNAPSHOT_MAX_AGE_SECONDS` is refreshed from Smile within a tight budget first
(`customer_hub.smile.freshness`), falling back to the snapshot when Smile is slow or down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from customer_hub.identity import Customer
from customer_hub.infra import clock
from customer_hub.loyalty import view as loyalty
from customer_hub.loyalty.snapshots import (
    CouponRecord,
    CustomerSnapshot,
    Program,
    choose_customer,
    load_program,
    load_shopper,
)
from customer_hub.loyalty.texts import Language
from customer_hub.merchants.profiles import Merchant
from customer_hub.problems import SmileNotConnected
from customer_hub.shoppers import coupons
from customer_hub.smile import freshness


@dataclass
class ShopperData:
    merchant: Merchant
    shopper: Customer | None
    program: Program
    customer: CustomerSnapshot | None
    coupons: list[CouponRecord]

    @property
    def state(self) -> loyalty.State:
        return loyalty.state_of(self.shopper is not None, self.customer)

    def coupons_page(self) -> dict[str, list[dict[str, Any]]]:
        return coupons.coupons_page(self.coupons, clock.now(), self.merchant.cart_window_hours)


def require_program(merchant: Merchant) -> Program:
    program = load_program(merchant.merchant_id)
    if program is None:
        raise SmileNotConnected("This shop's loyalty program is not available yet.")
    return program


def load(merchant: Merchant, shopper: Customer | None, *, need_program: bool = True) -> ShopperData:
    """The program and (for a logged-in shopper) their freshest customer and coupons."""
    if shopper is None:
        program = load_program(merchant.merchant_id) or Program()
        return ShopperData(merchant, None, program, None, [])
    program = require_program(merchant) if need_program else Program()
    view = load_shopper(merchant.merchant_id, shopper.email, shopper.shopify_customer_id)
    stored = choose_customer(view.customers)
    customer, coupon_list = freshness.refreshed(
        merchant, shopper, stored, view.coupons, view.looked_up_at
    )
    if customer is not None and stored is not None:
        # A refresh rewrote Smile's fields only: the item's redemption holds still stand, and
        # every storefront balance excludes the points they hold.
        guard = {"holds": stored.holds, "hold_version": stored.hold_version}
        customer = customer.model_copy(update=guard).with_holds_applied(clock.now())
    return ShopperData(merchant, shopper, program, customer, coupon_list)


def loyalty_body(data: ShopperData, language: Language = "en") -> dict[str, Any]:
    page = data.coupons_page() if data.shopper is not None else {"available": []}
    return loyalty.loyalty_json(
        data.state,
        data.program,
        data.customer,
        len(page["available"]),
        data.merchant.currency,
        language,
    )


def rewards_body(data: ShopperData, language: Language = "en") -> dict[str, Any]:
    return loyalty.rewards_json(
        data.state,
        data.program,
        data.customer,
        data.coupons_page(),
        data.merchant.currency,
        language,
    )


def coupons_body(data: ShopperData) -> dict[str, Any]:
    page = data.coupons_page()
    return {"available_count": len(page["available"]), **page}
