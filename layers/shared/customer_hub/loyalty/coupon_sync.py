"""The sync's write of a Smile reward fulfillment into the snapshots (`merge_coupon_from_smile`):
Smile's fields only, never backwards, keeping the fields the hub owns."""

from __future__ import annotations

from typing import Any

from customer_hub.infra.config import config
from customer_hub.infra.store import Table
from customer_hub.loyalty.models import CouponRecord
from customer_hub.loyalty.snapshots import email_pk, index_coupon_code, shopper_pk


def _data() -> Table:
    return Table(config().data_table)


# Fields Smile owns; the rest of a CouponRecord (shopify_customer_id, applied_at,
# used_in_order_id) is written by the hub and must survive a sync.
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


def _merge_smile_fields(pk: str, coupon: CouponRecord) -> dict[str, Any] | None:
    """Update only Smile's fields, never backwards. The item after the write, or None."""
    table = _data()
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
    try:
        return table.update(
            pk,
            f"COUPON#{coupon.fulfillment_id}",
            expression,
            values=expression_values,
            names={**names, "#updated": "updated_at"},
            condition="attribute_not_exists(pk) OR #updated <= :updated",
            return_values="ALL_NEW",
        )
    except table._client.exceptions.ConditionalCheckFailedException:
        return None


def _create_coupon(pk: str, coupon: CouponRecord) -> bool:
    return _data().put_if(
        {"pk": pk, "sk": f"COUPON#{coupon.fulfillment_id}", **coupon.model_dump(mode="json")},
        "attribute_not_exists(pk)",
    )


def merge_coupon_from_smile(
    merchant_id: str, email: str, coupon: CouponRecord, *, probably_new: bool = False
) -> bool:
    """The sync's write of a reward fulfillment: Smile's fields only, never backwards.

    Unlike `save_coupon`, fields the hub owns (`shopify_customer_id`, `applied_at`,
    `used_in_order_id`) are kept; when the stored coupon names its shopper, the copy in the
    shopper partition is updated too. `probably_new` tries a plain create first (cheaper).
    True when written.
    """
    pk = email_pk(merchant_id, email)
    if probably_new and not coupon.shopify_customer_id and _create_coupon(pk, coupon):
        index_coupon_code(merchant_id, email, coupon, None)
        return True
    stored = _merge_smile_fields(pk, coupon)
    if stored is None:
        return False
    shopper = stored.get("shopify_customer_id") or coupon.shopify_customer_id
    if shopper:
        _merge_smile_fields(shopper_pk(merchant_id, str(shopper)), coupon)
    index_coupon_code(merchant_id, email, coupon, str(shopper) if shopper else None)
    return True
