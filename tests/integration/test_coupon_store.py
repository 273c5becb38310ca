"""The coupon store contract, run on the DynamoDB adapter (the local stack's moto) and on the
in-memory fake the unit tests use (`tests/unit/test_coupon_rules.py`): the fake must refuse and
keep exactly what DynamoDB's conditions and expressions do."""

from __future__ import annotations

import uuid

import pytest

from customer_hub.loyalty.coupon_memory import MemoryCoupons
from customer_hub.loyalty.coupon_store import CouponStore, DynamoCoupons
from customer_hub.loyalty.keys import email_pk, shopper_pk
from tests.support.coupons import coupon_record


@pytest.fixture(params=["dynamodb", "memory"])
def coupons(request: pytest.FixtureRequest) -> CouponStore:
    if request.param == "dynamodb":
        request.getfixturevalue("stack")
        return DynamoCoupons()
    return MemoryCoupons()


@pytest.fixture
def merchant() -> str:
    """A merchant of its own for each test (the moto table is shared)."""
    return f"m_{uuid.uuid4().hex[:16]}"


def test_a_save_never_goes_backwards_and_keeps_unnamed_hub_fields(
    coupons: CouponStore, merchant: str
) -> None:
    pk = email_pk(merchant, "a@example.com")
    assert coupons.find(pk, 7) is None
    assert coupons.save_if_newer(pk, coupon_record(applied_at="2026-11-23T12:01:00Z"))

    newer = coupon_record(name="$5 off!", updated_at="2026-11-23T13:00:00Z")
    assert coupons.save_if_newer(pk, newer)
    assert not coupons.save_if_newer(
        pk, coupon_record(name="old", updated_at="2026-11-23T11:00:00Z")
    )

    stored = coupons.find(pk, 7)
    assert stored == newer.model_copy(update={"applied_at": "2026-11-23T12:01:00Z"})
    assert coupons.save_if_newer(pk, newer)  # the same updated_at is written again
    assert coupons.find(email_pk(merchant, "b@example.com"), 7) is None


def test_create_writes_only_a_newcoupon_record(coupons: CouponStore, merchant: str) -> None:
    pk = email_pk(merchant, "a@example.com")
    assert coupons.create(pk, coupon_record())
    assert not coupons.create(pk, coupon_record(name="again"))
    assert coupons.find(pk, 7) == coupon_record()


def test_a_merge_writes_smile_fields_only_never_backwards(
    coupons: CouponStore, merchant: str
) -> None:
    pk = email_pk(merchant, "a@example.com")
    hub = {"shopify_customer_id": "55", "applied_at": "2026-11-23T12:01:00Z"}
    coupons.save_if_newer(pk, coupon_record(image_url="https://img.example.com/a.png", **hub))

    smile = coupon_record(code="HUB-7B", usage_status="used", updated_at="2026-11-23T14:00:00Z")
    merged = coupons.merge_smile_fields(pk, smile)

    assert merged == smile.model_copy(update=hub)  # image_url removed: Smile has none now
    assert coupons.find(pk, 7) == merged
    assert coupons.merge_smile_fields(pk, coupon_record(updated_at="2026-11-23T13:00:00Z")) is None
    assert coupons.find(pk, 7) == merged

    fresh = coupons.merge_smile_fields(shopper_pk(merchant, "55"), coupon_record())
    assert fresh == coupon_record()  # a merge into an empty partition creates the coupon


def test_bind_and_mark_used_change_only_a_storedcoupon_record(
    coupons: CouponStore, merchant: str
) -> None:
    pk = email_pk(merchant, "a@example.com")
    bound = {"applied_at": "2026-11-23T12:05:00Z", "shopify_customer_id": "55"}
    assert not coupons.bind(pk, 7, bound)
    assert not coupons.mark_used(pk, 7, "order-1", "2026-11-23T12:10:00Z")
    assert coupons.find(pk, 7) is None

    coupons.create(pk, coupon_record(updated_at="2026-11-23T15:00:00Z"))
    assert coupons.bind(pk, 7, bound)  # whatever the stored updated_at
    assert coupons.mark_used(pk, 7, "order-1", "2026-11-23T12:10:00Z")
    assert coupons.mark_used(pk, 7, "order-2", "2026-11-23T12:20:00Z")

    stored = coupons.find(pk, 7)
    assert stored is not None
    assert (stored.applied_at, stored.shopify_customer_id) == ("2026-11-23T12:05:00Z", "55")
    assert (stored.used_in_order_id, stored.used_at) == ("order-2", "2026-11-23T12:10:00Z")


def test_codes_are_indexed_case_insensitively(coupons: CouponStore, merchant: str) -> None:
    coupons.index_code(merchant, " A@Example.com", coupon_record(code="hub-7"), None)
    coupons.index_code(
        merchant, "b@example.com", coupon_record(fulfillment_id=8, code="HUB-7"), "55"
    )
    coupons.index_code(merchant, "c@example.com", coupon_record(fulfillment_id=9, code=None), "56")

    references = sorted(coupons.code_references(merchant, "Hub-7 "), key=lambda r: r["email"])
    assert [{k: r[k] for k in r if k not in ("pk", "sk")} for r in references] == [
        {"email": "a@example.com", "fulfillment_id": 7},
        {"email": "b@example.com", "fulfillment_id": 8, "shopify_customer_id": "55"},
    ]
    coupons.index_code(merchant, "a@example.com", coupon_record(code="HUB-7"), "57")
    shoppers = {r.get("shopify_customer_id") for r in coupons.code_references(merchant, "HUB-7")}
    assert shoppers == {"57", "55"}
    assert coupons.code_references(merchant, "OTHER") == []


def test_a_partition_lists_its_coupons(coupons: CouponStore, merchant: str) -> None:
    pk = shopper_pk(merchant, "55")
    for fulfillment_id in (3, 12):
        coupons.save_if_newer(pk, coupon_record(fulfillment_id=fulfillment_id))
    coupons.save_if_newer(shopper_pk(merchant, "56"), coupon_record(fulfillment_id=4))

    listed = sorted(coupons.partition(pk), key=lambda c: c.fulfillment_id)
    assert listed == [coupon_record(fulfillment_id=3), coupon_record(fulfillment_id=12)]
    assert coupons.partition(shopper_pk(merchant, "57")) == []
