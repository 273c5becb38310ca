"""The in-memory fake of `customer_hub.loyalty.coupon_store.CouponStore`, for unit tests: the
adapter's conditions (the same contract suite, `tests/integration/test_coupon_store.py`, runs on
both) over plain dicts; no AWS."""

from __future__ import annotations

import copy
from typing import Any

from customer_hub.loyalty.coupon_store import SMILE_COUPON_FIELDS, coupon_update
from customer_hub.loyalty.keys import code_pk
from customer_hub.loyalty.models import CouponRecord

Key = tuple[str, int]


class MemoryCoupons:
    def __init__(self) -> None:
        self.items: dict[Key, dict[str, Any]] = {}  # (partition, fulfillment id) → fields
        self.codes: dict[Key, dict[str, Any]] = {}  # (code partition, fulfillment id) → ref

    def find(self, pk: str, fulfillment_id: int) -> CouponRecord | None:
        item = self.items.get((pk, fulfillment_id))
        return CouponRecord.model_validate(copy.deepcopy(item)) if item else None

    def partition(self, pk: str) -> list[CouponRecord]:
        return [
            CouponRecord.model_validate(copy.deepcopy(item))
            for (partition, _id), item in sorted(self.items.items())
            if partition == pk
        ]

    def _older(self, pk: str, coupon: CouponRecord) -> dict[str, Any] | None:
        """The stored item when the coupon may be written over it ({} when there is none)."""
        stored = self.items.get((pk, coupon.fulfillment_id))
        if stored is not None and not str(stored.get("updated_at") or "~") <= coupon.updated_at:
            return None  # DynamoDB's `updated_at <= :updated` (false without the attribute)
        return stored if stored is not None else {}

    def save_if_newer(self, pk: str, coupon: CouponRecord) -> bool:
        stored = self._older(pk, coupon)
        if stored is None:
            return False
        _expression, values, names = coupon_update(coupon)
        fields = {name: values[":v" + placeholder[2:]] for placeholder, name in names.items()}
        self.items[(pk, coupon.fulfillment_id)] = {**stored, **copy.deepcopy(fields)}
        return True

    def create(self, pk: str, coupon: CouponRecord) -> bool:
        if (pk, coupon.fulfillment_id) in self.items:
            return False
        self.items[(pk, coupon.fulfillment_id)] = coupon.model_dump(mode="json", exclude_none=True)
        return True

    def merge_smile_fields(self, pk: str, coupon: CouponRecord) -> CouponRecord | None:
        stored = self._older(pk, coupon)
        if stored is None:
            return None
        values = coupon.model_dump(mode="json")
        item = {**stored, "fulfillment_id": coupon.fulfillment_id}
        for name in SMILE_COUPON_FIELDS:
            if values[name] is None:
                item.pop(name, None)
            else:
                item[name] = values[name]
        self.items[(pk, coupon.fulfillment_id)] = item
        return CouponRecord.model_validate(copy.deepcopy(item))

    def bind(self, pk: str, fulfillment_id: int, fields: dict[str, str]) -> bool:
        stored = self.items.get((pk, fulfillment_id))
        if stored is None:
            return False
        stored.update(fields)
        return True

    def index_code(
        self, merchant_id: str, email: str, coupon: CouponRecord, shopper: str | None
    ) -> None:
        if not coupon.code:
            return
        entry = self.codes.setdefault(
            (code_pk(merchant_id, coupon.code), coupon.fulfillment_id), {}
        )
        entry.update(email=email.strip().lower(), fulfillment_id=coupon.fulfillment_id)
        if shopper:
            entry["shopify_customer_id"] = shopper

    def code_references(self, merchant_id: str, code: str) -> list[dict[str, Any]]:
        pk = code_pk(merchant_id, code)
        return [copy.deepcopy(ref) for (p, _id), ref in sorted(self.codes.items()) if p == pk]

    def mark_used(self, pk: str, fulfillment_id: int, order_id: str, at: str) -> bool:
        stored = self.items.get((pk, fulfillment_id))
        if stored is None:
            return False
        stored["used_in_order_id"] = order_id
        stored.setdefault("used_at", at)
        return True
