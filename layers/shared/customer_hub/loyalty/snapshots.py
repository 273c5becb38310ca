"""Snapshots of Smile.io data that storefront reads serve without calling Smile.

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

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from customer_hub.infra.config import config
from customer_hub.infra.lru import ExpiringLru, Missing
from customer_hub.infra.store import Table
from customer_hub.loyalty.models import (
    CouponRecord as CouponRecord,
)
from customer_hub.loyalty.models import (
    EarningRule as EarningRule,
)
from customer_hub.loyalty.models import (
    FixedValue as FixedValue,
)
from customer_hub.loyalty.models import (
    PointsLabel as PointsLabel,
)
from customer_hub.loyalty.models import (
    PointsProduct as PointsProduct,
)
from customer_hub.loyalty.models import (
    Program as Program,
)
from customer_hub.loyalty.models import (
    Reward as Reward,
)
from customer_hub.loyalty.models import (
    RewardValue as RewardValue,
)
from customer_hub.loyalty.models import (
    SmileModel as SmileModel,
)
from customer_hub.loyalty.models import (
    VariableValue as VariableValue,
)
from customer_hub.loyalty.models import (
    VipSettings as VipSettings,
)
from customer_hub.loyalty.models import (
    VipStatus as VipStatus,
)
from customer_hub.loyalty.models import (
    VipTier as VipTier,
)
from customer_hub.merchants.profiles import merchant_pk

PROGRAM_SK = "PROGRAM"
PROGRAM_CACHE_SECONDS = 60
PROGRAM_CACHE_ENTRIES = 1024  # merchants per warm container; least recently used go first


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


def email_pk(merchant_id: str, email: str) -> str:
    return f"{merchant_pk(merchant_id)}#EMAIL#{email.strip().lower()}"


def shopper_pk(merchant_id: str, shopify_customer_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#SHOPPER#{shopify_customer_id}"


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


# ------------------------------------------------------------------ customers and coupons
def _put_if_newer(item: dict[str, Any]) -> bool:
    """Put unless the stored item carries a newer Smile `updated_at`. True when written."""
    return _data().put_if(
        item,
        "attribute_not_exists(pk) OR updated_at <= :updated",
        values={":updated": str(item["updated_at"])},
    )


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


# Coupon fields the hub owns (the shopper who redeemed or applied it, when, the order that used
# it): a sync write from Smile never clears them, a hub write that names them replaces them.
HUB_COUPON_FIELDS = ("shopify_customer_id", "applied_at", "used_in_order_id")


def code_pk(merchant_id: str, code: str) -> str:
    """The lookup partition of a coupon code (Shopify discount codes are case-insensitive)."""
    return f"{merchant_pk(merchant_id)}#CODE#{code.strip().upper()}"


def _coupon_update(coupon: CouponRecord) -> tuple[str, dict[str, Any], dict[str, str]]:
    """SET of a coupon's fields (the hub's own only when set) and `:updated` for the guard."""
    sets, values, names = [], {":updated": coupon.updated_at}, {}
    for index, (name, value) in enumerate(coupon.model_dump(mode="json").items()):
        if name in HUB_COUPON_FIELDS and value is None:
            continue
        names[f"#f{index}"] = name
        values[f":v{index}"] = value
        sets.append(f"#f{index} = :v{index}")
    return "SET " + ", ".join(sets), values, names


def coupon_write(pk: str, coupon: CouponRecord) -> dict[str, Any]:
    """`_update_coupon_if_newer` as a TransactWriteItems operation."""
    from customer_hub.infra.store import key, serialize_value

    expression, values, names = _coupon_update(coupon)
    return {
        "Update": {
            "TableName": _data().name,
            "Key": key(pk, f"COUPON#{coupon.fulfillment_id}"),
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_not_exists(pk) OR updated_at <= :updated",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {k: serialize_value(v) for k, v in values.items()},
        }
    }


def code_index_write(merchant_id: str, email: str, coupon: CouponRecord) -> dict[str, Any] | None:
    """`index_coupon_code` as a TransactWriteItems operation (None without a code)."""
    from customer_hub.infra.store import key, serialize_value

    if not coupon.code:
        return None
    sets = ["email = :email", "fulfillment_id = :id"]
    values: dict[str, Any] = {":email": email.strip().lower(), ":id": coupon.fulfillment_id}
    if coupon.shopify_customer_id:
        sets.append("shopify_customer_id = :shopper")
        values[":shopper"] = coupon.shopify_customer_id
    return {
        "Update": {
            "TableName": _data().name,
            "Key": key(code_pk(merchant_id, coupon.code), f"COUPON#{coupon.fulfillment_id}"),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ExpressionAttributeValues": {k: serialize_value(v) for k, v in values.items()},
        }
    }


def _update_coupon_if_newer(pk: str, coupon: CouponRecord) -> bool:
    """Write Smile's fields (unless the stored coupon is newer) and keep the hub's own fields."""
    expression, values, names = _coupon_update(coupon)
    table = _data()
    return table.update_if(
        pk,
        f"COUPON#{coupon.fulfillment_id}",
        expression,
        "attribute_not_exists(pk) OR updated_at <= :updated",
        values=values,
        names=names,
    )


def save_coupon(merchant_id: str, email: str, coupon: CouponRecord) -> bool:
    """Store a coupon under its owner's email partition (and the shopper's, when known).

    A coupon with a code is also indexed by code (`MERCHANT#<m>#CODE#<CODE>` /
    `COUPON#<fulfillment id>` → email, shopper), so an order using the code can mark it used.
    """
    written = _update_coupon_if_newer(email_pk(merchant_id, email), coupon)
    if coupon.shopify_customer_id:
        _forget_shopper(merchant_id, coupon.shopify_customer_id)
        shopper = _update_coupon_if_newer(
            shopper_pk(merchant_id, coupon.shopify_customer_id), coupon
        )
        written = shopper or written
    if written:
        index_coupon_code(merchant_id, email, coupon, coupon.shopify_customer_id)
    return written


def bind_coupon(merchant_id: str, email: str, coupon: CouponRecord) -> None:
    """Write the hub's own fields (`applied_at`, `shopify_customer_id`) on the email partition's
    copy whatever its `updated_at`: a sync may have stored a newer Smile answer of the same
    fulfillment first, and `save_coupon` then keeps that copy (without the hub's fields)."""
    sets, values = [], {}
    for name in ("applied_at", "shopify_customer_id"):
        value = getattr(coupon, name)
        if value is not None:
            sets.append(f"{name} = :{name}")
            values[f":{name}"] = value
    if not sets:
        return
    table = _data()
    try:
        table.update(
            email_pk(merchant_id, email),
            f"COUPON#{coupon.fulfillment_id}",
            "SET " + ", ".join(sets),
            values=values,
            condition="attribute_exists(pk)",
        )
    except table._client.exceptions.ConditionalCheckFailedException:
        return


def index_coupon_code(
    merchant_id: str, email: str, coupon: CouponRecord, shopify_customer_id: str | None
) -> None:
    """Code → where the coupon lives (email and shopper partitions), for orders using it."""
    if not coupon.code:
        return
    sets = ["email = :email", "fulfillment_id = :id"]
    values: dict[str, Any] = {":email": email.strip().lower(), ":id": coupon.fulfillment_id}
    if shopify_customer_id:
        sets.append("shopify_customer_id = :shopper")
        values[":shopper"] = shopify_customer_id
    _data().update(
        code_pk(merchant_id, coupon.code),
        f"COUPON#{coupon.fulfillment_id}",
        "SET " + ", ".join(sets),
        values=values,
    )


class ShopperView(BaseModel):
    customers: list[CustomerSnapshot]
    coupons: list[CouponRecord]
    looked_up_at: str | None = None  # when Smile last had no customer with this email


# The shopper partition only adds coupons bound to the shopper under an earlier email (the
# current email's partition, read on every view, holds the Smile customer and every coupon
# redeemed or issued under it): it is cached per warm container for a bounded age, so a warm
# view is one Query. Bounded in size too (least recently used shoppers dropped first).
SHOPPER_CACHE_SECONDS = 60
SHOPPER_CACHE_SIZE = 4096
_shopper_cache: ExpiringLru[tuple[str, str], list[CouponRecord]] = ExpiringLru(SHOPPER_CACHE_SIZE)


def _shopper_coupons(
    table: Table, merchant_id: str, shopify_customer_id: str
) -> list[CouponRecord]:
    wanted = (merchant_id, shopify_customer_id)
    cached = _shopper_cache.get(wanted)
    if not isinstance(cached, Missing):
        return cached
    coupons = [
        CouponRecord.model_validate(item)
        for item in table.query_all(
            shopper_pk(merchant_id, shopify_customer_id), sk_prefix="COUPON#"
        )
    ]
    _shopper_cache.put(wanted, coupons, SHOPPER_CACHE_SECONDS)
    return coupons


def forget_shoppers() -> None:
    _shopper_cache.clear()


def _forget_shopper(merchant_id: str, shopify_customer_id: str) -> None:
    """This container wrote to the shopper partition: its next read must see the write."""
    _shopper_cache.pop((merchant_id, shopify_customer_id))


# A lookup of the email in Smile that found no customer (`customer_hub.smile.freshness`): stored in
# the email partition, so the next views (any container) read it with the snapshot.
LOOKUP_SK = "LOOKUP"


def load_shopper(merchant_id: str, email: str, shopify_customer_id: str) -> ShopperView:
    """Everything stored for one shopper: one Query of the email partition, plus the shopper
    partition when it is not cached in this container (`SHOPPER_CACHE_SECONDS`)."""
    customers: list[CustomerSnapshot] = []
    coupons: dict[int, CouponRecord] = {}
    looked_up_at: str | None = None
    table = _data()
    for item in table.query_all(email_pk(merchant_id, email)):
        if item["sk"].startswith("CUSTOMER#"):
            customers.append(CustomerSnapshot.model_validate(item))
        elif item["sk"].startswith("COUPON#"):
            coupon = CouponRecord.model_validate(item)
            coupons[coupon.fulfillment_id] = coupon
        elif item["sk"] == LOOKUP_SK:
            looked_up_at = str(item.get("checked_at") or "") or None
    for coupon in _shopper_coupons(table, merchant_id, shopify_customer_id):
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


def choose_customer(customers: list[CustomerSnapshot]) -> CustomerSnapshot | None:
    """SPEC §8: with several Smile customers on one email, prefer `member`, then the lowest id."""
    if not customers:
        return None
    return min(customers, key=lambda c: (c.state != "member", c.smile_customer_id))
