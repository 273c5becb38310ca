"""Snapshots of Smile.io data that storefront reads serve without calling Smile: the store of
the program, customers and lookups, and the one read of a shopper (`load_shopper`). The pieces
live beside it and are imported from here too: keys (`customer_hub.loyalty.keys`), models
(`models`, `customers`), coupon writes (`coupon_writes` over the `coupon_store` port).

Written by the sync (and by redemptions); read by the storefront routes. Layout in the data
table, every key scoped to one merchant:

- `MERCHANT#<m>` / `PROGRAM` — the program: points label, points products, earning rules,
  VIP tiers, VIP and referral settings (one item, cached in warm containers for
  `PROGRAM_CACHE_SECONDS`).
- `MERCHANT#<m>#EMAIL#<lower-cased email>` / `CUSTOMER#<smile id>` — one item per Smile customer
  with that email (Smile emails are not unique; `choose_customer` applies SPEC §8).
- the same partition / `COUPON#<fulfillment id>` — reward fulfillments of those customers.
- `MERCHANT#<m>#SHOPPER#<shopify customer id>` / `COUPON#<fulfillment id>` — coupons bound to
  the shopper who redeemed them in the hub, so they stay listed when the email changes.

- `MERCHANT#<m>#CODE#<CODE>` / `COUPON#<fulfillment id>` — coupon code → where the coupon lives
  (email, shopper), written with the coupon; orders using the code mark it used.

Coupons carry hub-owned fields (`HUB_COUPON_FIELDS`: the shopper who redeemed or applied it,
`applied_at`, `used_in_order_id`) that Smile writes never clear. A customer item may carry the
redemption guard's `holds` (one entry per redemption whose outcome is not settled, keyed by
its idempotency record; `hold_version` orders changes to them, `customer_hub.redemption.protocol`).
A snapshot write (sync, read-through refresh) updates only the Smile fields, so it never drops a
live hold; a hold stops counting once a snapshot read from Smile after the redemption's outcome
became final (`HOLD_OUTCOME_FINAL_SECONDS` after it began) shows what Smile did (`live_holds`).

A shopper's read is therefore one Query of the email partition, plus one of the shopper
partition when this container has not cached it (`SHOPPER_CACHE_SECONDS`). The email partition
may also hold `LOOKUP` (`checked_at`, TTL `expires_at`): Smile had no customer with that email
when a logged-in shopper without a snapshot was looked up (`customer_hub.smile.freshness`).
Writes never move an item backwards: a snapshot carrying an older Smile `updated_at` than the
stored one is ignored.
"""

from __future__ import annotations

from pydantic import BaseModel

from customer_hub.infra.config import config
from customer_hub.infra.lru import ExpiringLru, Missing
from customer_hub.infra.store import Table
from customer_hub.loyalty.coupon_writes import (
    SHOPPER_CACHE_SECONDS,
    bind_coupon,
    forget_shoppers,
    index_coupon_code,
    save_coupon,
    shopper_coupons,
)
from customer_hub.loyalty.customers import (
    HOLD_MAX_SECONDS,
    HOLD_OUTCOME_FINAL_SECONDS,
    CustomerSnapshot,
    choose_customer,
    live_holds,
)
from customer_hub.loyalty.keys import (
    LOOKUP_SK,
    PROGRAM_SK,
    code_pk,
    email_pk,
    shopper_pk,
)
from customer_hub.loyalty.models import (
    CouponRecord,
    EarningRule,
    FixedValue,
    PointsLabel,
    PointsProduct,
    Program,
    Reward,
    RewardValue,
    SmileModel,
    VariableValue,
    VipSettings,
    VipStatus,
    VipTier,
)
from customer_hub.merchants.profiles import merchant_pk

# The names callers import from here (the store's own, and the models and rules it stores).
__all__ = [
    "HOLD_MAX_SECONDS",
    "HOLD_OUTCOME_FINAL_SECONDS",
    "LOOKUP_SK",
    "PROGRAM_CACHE_ENTRIES",
    "PROGRAM_CACHE_SECONDS",
    "PROGRAM_SK",
    "SHOPPER_CACHE_SECONDS",
    "CouponRecord",
    "CustomerSnapshot",
    "EarningRule",
    "FixedValue",
    "PointsLabel",
    "PointsProduct",
    "Program",
    "Reward",
    "RewardValue",
    "ShopperView",
    "SmileModel",
    "VariableValue",
    "VipSettings",
    "VipStatus",
    "VipTier",
    "bind_coupon",
    "choose_customer",
    "code_pk",
    "email_pk",
    "forget_shoppers",
    "index_coupon_code",
    "live_holds",
    "load_program",
    "load_shopper",
    "save_coupon",
    "save_customer",
    "save_lookup_miss",
    "save_program",
    "shopper_pk",
]

PROGRAM_CACHE_SECONDS = 60
PROGRAM_CACHE_ENTRIES = 1024  # merchants per warm container; least recently used go first


def _data() -> Table:
    return Table(config().data_table)


# ------------------------------------------------------------------ program
_program_cache: ExpiringLru[str, Program | None] = ExpiringLru(PROGRAM_CACHE_ENTRIES)


def save_program(merchant_id: str, program: Program) -> None:
    _data().put(
        {"pk": merchant_pk(merchant_id), "sk": PROGRAM_SK, **program.model_dump(mode="json")}
    )
    _program_cache.pop(merchant_id)


def load_program(merchant_id: str, *, max_age: float = PROGRAM_CACHE_SECONDS) -> Program | None:
    """The merchant's program; cached per warm container for `max_age` seconds."""
    cached = _program_cache.get(merchant_id)
    if not isinstance(cached, Missing):
        return cached
    item = _data().get(merchant_pk(merchant_id), PROGRAM_SK)
    program = Program.model_validate(item) if item else None
    _program_cache.put(merchant_id, program, max_age)
    return program


# ------------------------------------------------------------------ customers and lookups
def save_customer(merchant_id: str, snapshot: CustomerSnapshot) -> bool:
    """Write Smile's fields of the customer unless the stored copy is newer (True when written).

    An UpdateItem, not a Put: the redemption guard's `holds` on the same item stay as they are.
    """
    data = snapshot.model_dump(mode="json")
    sets, names, values = [], {}, {":updated": snapshot.updated_at}
    removes = []
    for index, (name, value) in enumerate(data.items()):
        names[f"#f{index}"] = name
        if value is None:
            removes.append(f"#f{index}")
            continue
        values[f":v{index}"] = value
        sets.append(f"#f{index} = :v{index}")
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    table = _data()
    return table.update_if(
        email_pk(merchant_id, snapshot.email),
        f"CUSTOMER#{snapshot.smile_customer_id}",
        expression,
        "attribute_not_exists(pk) OR updated_at <= :updated",
        values=values,
        names=names,
    )


class ShopperView(BaseModel):
    customers: list[CustomerSnapshot]
    coupons: list[CouponRecord]
    looked_up_at: str | None = None  # when Smile last had no customer with this email


def load_shopper(merchant_id: str, email: str, shopify_customer_id: str) -> ShopperView:
    """Everything stored for one shopper: one Query of the email partition, plus the shopper
    partition when it is not cached in this container (`SHOPPER_CACHE_SECONDS`)."""
    customers: list[CustomerSnapshot] = []
    coupons: dict[int, CouponRecord] = {}
    looked_up_at: str | None = None
    for item in _data().query_all(email_pk(merchant_id, email)):
        if item["sk"].startswith("CUSTOMER#"):
            customers.append(CustomerSnapshot.model_validate(item))
        elif item["sk"].startswith("COUPON#"):
            coupon = CouponRecord.model_validate(item)
            coupons[coupon.fulfillment_id] = coupon
        elif item["sk"] == LOOKUP_SK:
            looked_up_at = str(item.get("checked_at") or "") or None
    for coupon in shopper_coupons(merchant_id, shopify_customer_id):
        known = coupons.get(coupon.fulfillment_id)
        # On a tie the email partition's copy (read just now) wins over a cached one.
        if known is None or known.updated_at < coupon.updated_at:
            coupons[coupon.fulfillment_id] = coupon
    return ShopperView(
        customers=customers, coupons=list(coupons.values()), looked_up_at=looked_up_at
    )


def save_lookup_miss(merchant_id: str, email: str, checked_at: str, expires_at: int) -> None:
    """Smile has no customer with this email (as of `checked_at`); TTL removes the note."""
    _data().put(
        {
            "pk": email_pk(merchant_id, email),
            "sk": LOOKUP_SK,
            "checked_at": checked_at,
            "expires_at": expires_at,
        }
    )
