"""Coupon items behind a port: `CouponStore` is what the coupon rules need (the hub's writes in
`customer_hub.loyalty.coupon_writes`, the sync's merge in `customer_hub.loyalty.coupon_sync`,
orders using a code in `customer_hub.shoppers.coupons`); `DynamoCoupons` keeps them in the data
table (`<partition>` / `COUPON#<fulfillment id>`, partitions in `customer_hub.loyalty.keys`),
`customer_hub.loyalty.coupon_memory.MemoryCoupons` in dicts (unit tests). Both pass
`tests/integration/test_coupon_store.py`.

Every write is one conditional request; which partitions to write, and when, is the rules' part.
`store` is the port the rules use: DynamoDB in every function, the fake in unit tests.
"""

from __future__ import annotations

from typing import Any, Protocol

from customer_hub.infra.config import config
from customer_hub.infra.store import Table, key, serialize_value, unless_condition_failed
from customer_hub.loyalty.keys import COUPON_PREFIX, code_pk, coupon_sk
from customer_hub.loyalty.models import CouponRecord

# Coupon fields the hub owns (the shopper who redeemed or applied it, when, the order that used
# it): a sync write from Smile never clears them, a hub write that names them replaces them.
HUB_COUPON_FIELDS = ("shopify_customer_id", "applied_at", "used_in_order_id")
# Fields Smile owns: the sync's merge writes only these (and the fulfillment id).
SMILE_COUPON_FIELDS = (
    "smile_customer_id",
    "name",
    "code",
    "fulfillment_status",
    "usage_status",
    "image_url",
    "usage_instructions",
    "expires_at",
    "used_at",
    "updated_at",
)
NOT_NEWER = "attribute_not_exists(pk) OR updated_at <= :updated"


class CouponStore(Protocol):
    def find(self, pk: str, fulfillment_id: int) -> CouponRecord | None:
        """The coupon stored in partition `pk`, or None."""
        ...

    def partition(self, pk: str) -> list[CouponRecord]:
        """Every coupon of partition `pk` (a shopper's, an email's)."""
        ...

    def save_if_newer(self, pk: str, coupon: CouponRecord) -> bool:
        """Write the coupon's fields (the hub's own only when set) unless the stored copy has a
        newer Smile `updated_at`; True when written."""
        ...

    def create(self, pk: str, coupon: CouponRecord) -> bool:
        """Store the coupon as it is unless the partition has it already; True when created."""
        ...

    def merge_smile_fields(self, pk: str, coupon: CouponRecord) -> CouponRecord | None:
        """Write only Smile's fields (`SMILE_COUPON_FIELDS`; a None one is removed), never
        backwards (stored `updated_at` newer: nothing written); the coupon after, or None."""
        ...

    def bind(self, pk: str, fulfillment_id: int, fields: dict[str, str]) -> bool:
        """Set hub-owned `fields` on a stored coupon whatever its `updated_at`; False (nothing
        written) when the partition has no such coupon."""
        ...

    def index_code(
        self, merchant_id: str, email: str, coupon: CouponRecord, shopper: str | None
    ) -> None:
        """Code → where the coupon lives (email, and shopper when given)."""
        ...

    def code_references(self, merchant_id: str, code: str) -> list[dict[str, Any]]:
        """The index entries of a code: `email`, `fulfillment_id`, `shopify_customer_id`."""
        ...

    def mark_used(self, pk: str, fulfillment_id: int, order_id: str, at: str) -> bool:
        """Record the order that used a stored coupon (`used_at` only when not set yet); False
        when the partition has no such coupon."""
        ...


def coupon_update(coupon: CouponRecord) -> tuple[str, dict[str, Any], dict[str, str]]:
    """SET of a coupon's fields (the hub's own only when set) and `:updated` for the guard."""
    sets, values, names = [], {":updated": coupon.updated_at}, {}
    for index, (name, value) in enumerate(coupon.model_dump(mode="json").items()):
        if name in HUB_COUPON_FIELDS and value is None:
            continue
        names[f"#f{index}"] = name
        values[f":v{index}"] = value
        sets.append(f"#f{index} = :v{index}")
    return "SET " + ", ".join(sets), values, names


def _code_update(
    email: str, coupon: CouponRecord, shopper: str | None
) -> tuple[str, dict[str, Any]]:
    sets = ["email = :email", "fulfillment_id = :id"]
    values: dict[str, Any] = {":email": email.strip().lower(), ":id": coupon.fulfillment_id}
    if shopper:
        sets.append("shopify_customer_id = :shopper")
        values[":shopper"] = shopper
    return "SET " + ", ".join(sets), values


def _merge_update(coupon: CouponRecord) -> tuple[str, dict[str, Any], dict[str, str]]:
    """SET of Smile's fields that have a value, REMOVE of those that have none."""
    values = coupon.model_dump(mode="json")
    names = {f"#f{i}": name for i, name in enumerate(SMILE_COUPON_FIELDS)}
    sets, removes = ["fulfillment_id = :fid"], []
    expression_values: dict[str, Any] = {
        ":fid": coupon.fulfillment_id,
        ":updated": coupon.updated_at,
    }
    for i, name in enumerate(SMILE_COUPON_FIELDS):
        if values[name] is None:
            removes.append(f"#f{i}")
        else:
            sets.append(f"#f{i} = :v{i}")
            expression_values[f":v{i}"] = values[name]
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return expression, expression_values, {**names, "#updated": "updated_at"}


class DynamoCoupons:
    @property
    def table(self) -> Table:
        return Table(config().data_table)

    def find(self, pk: str, fulfillment_id: int) -> CouponRecord | None:
        item = self.table.get(pk, coupon_sk(fulfillment_id))
        return CouponRecord.model_validate(item) if item else None

    def partition(self, pk: str) -> list[CouponRecord]:
        items = self.table.query_all(pk, sk_prefix=COUPON_PREFIX)
        return [CouponRecord.model_validate(item) for item in items]

    def save_if_newer(self, pk: str, coupon: CouponRecord) -> bool:
        expression, values, names = coupon_update(coupon)
        sk = coupon_sk(coupon.fulfillment_id)
        return self.table.update_if(pk, sk, expression, NOT_NEWER, values=values, names=names)

    def create(self, pk: str, coupon: CouponRecord) -> bool:
        return self.table.put_if(
            {"pk": pk, "sk": coupon_sk(coupon.fulfillment_id), **coupon.model_dump(mode="json")},
            "attribute_not_exists(pk)",
        )

    def merge_smile_fields(self, pk: str, coupon: CouponRecord) -> CouponRecord | None:
        expression, values, names = _merge_update(coupon)
        sk = coupon_sk(coupon.fulfillment_id)
        stored = unless_condition_failed(
            lambda: self.table.update(
                pk,
                sk,
                expression,
                values,
                names,
                condition="attribute_not_exists(pk) OR #updated <= :updated",
                return_values="ALL_NEW",
            )
        )
        return CouponRecord.model_validate(stored) if stored is not None else None

    def bind(self, pk: str, fulfillment_id: int, fields: dict[str, str]) -> bool:
        sets = [f"{name} = :{name}" for name in fields]
        values = {f":{name}": value for name, value in fields.items()}
        return self.table.update_if(
            pk,
            coupon_sk(fulfillment_id),
            "SET " + ", ".join(sets),
            "attribute_exists(pk)",
            values=values,
        )

    def index_code(
        self, merchant_id: str, email: str, coupon: CouponRecord, shopper: str | None
    ) -> None:
        if not coupon.code:
            return
        expression, values = _code_update(email, coupon, shopper)
        sk = coupon_sk(coupon.fulfillment_id)
        self.table.update(code_pk(merchant_id, coupon.code), sk, expression, values=values)

    def code_references(self, merchant_id: str, code: str) -> list[dict[str, Any]]:
        return list(self.table.query_all(code_pk(merchant_id, code)))

    def mark_used(self, pk: str, fulfillment_id: int, order_id: str, at: str) -> bool:
        return self.table.update_if(
            pk,
            coupon_sk(fulfillment_id),
            "SET used_in_order_id = :order, used_at = if_not_exists(used_at, :at)",
            "attribute_exists(pk)",
            values={":order": order_id, ":at": at},
        )

    # TransactWriteItems operations (`customer_hub.redemption.finishing` writes a success at once)
    def save_write(self, pk: str, coupon: CouponRecord) -> dict[str, Any]:
        """`save_if_newer` as a TransactWriteItems operation."""
        expression, values, names = coupon_update(coupon)
        return {
            "Update": {
                "TableName": self.table.name,
                "Key": key(pk, coupon_sk(coupon.fulfillment_id)),
                "UpdateExpression": expression,
                "ConditionExpression": NOT_NEWER,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {k: serialize_value(v) for k, v in values.items()},
            }
        }

    def code_index_write(
        self, merchant_id: str, email: str, coupon: CouponRecord
    ) -> dict[str, Any] | None:
        """`index_code` as a TransactWriteItems operation (None without a code)."""
        if not coupon.code:
            return None
        expression, values = _code_update(email, coupon, coupon.shopify_customer_id)
        return {
            "Update": {
                "TableName": self.table.name,
                "Key": key(code_pk(merchant_id, coupon.code), coupon_sk(coupon.fulfillment_id)),
                "UpdateExpression": expression,
                "ExpressionAttributeValues": {k: serialize_value(v) for k, v in values.items()},
            }
        }


store: CouponStore = DynamoCoupons()
