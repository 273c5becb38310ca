"""The coupon rules (SPEC §3-4) on the in-memory coupon store (milliseconds): where a coupon is
stored and indexed, that Smile's writes never go backwards nor clear the hub's fields, that
applying binds it to the shopper, and that an order using a code marks every copy used. The
fake keeps DynamoDB's conditions (`tests/integration/test_coupon_store.py`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from customer_hub.infra import clock
from customer_hub.loyalty import coupon_store, coupon_writes
from customer_hub.loyalty.coupon_memory import MemoryCoupons
from customer_hub.loyalty.coupon_sync import merge_coupon_from_smile
from customer_hub.loyalty.coupon_writes import save_coupon, shopper_coupons
from customer_hub.loyalty.keys import email_pk, shopper_pk
from customer_hub.shoppers.coupons import coupon_status, mark_applied, mark_used_by_order
from tests.support.coupons import coupon_record

M = "m_0123456789abcdef"
EMAIL = "ann@example.com"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> MemoryCoupons:
    store = MemoryCoupons()
    monkeypatch.setattr(coupon_store, "store", store)
    monkeypatch.setattr(clock, "now", lambda: NOW)
    coupon_writes.forget_shoppers()
    return store


def test_a_saved_coupon_lives_under_the_email_and_the_shopper_and_is_indexed(
    fake: MemoryCoupons,
) -> None:
    assert shopper_coupons(M, "55") == []  # cached now …
    coupon = coupon_record(shopify_customer_id="55")
    assert save_coupon(M, " Ann@Example.com", coupon)

    assert fake.find(email_pk(M, EMAIL), 7) == coupon
    assert shopper_coupons(M, "55") == [coupon]  # … and dropped by this container's write
    assert fake.code_references(M, "hub-7") == [
        {"email": EMAIL, "fulfillment_id": 7, "shopify_customer_id": "55"}
    ]


def test_an_older_copy_is_ignored_and_not_indexed_again(fake: MemoryCoupons) -> None:
    save_coupon(M, EMAIL, coupon_record(updated_at="2026-11-23T11:30:00Z"))
    stale = coupon_record(code="OLD-7", name="old")
    assert not save_coupon(M, EMAIL, stale)
    assert fake.find(email_pk(M, EMAIL), 7) == coupon_record(updated_at="2026-11-23T11:30:00Z")
    assert fake.code_references(M, "OLD-7") == []


def test_applying_binds_the_coupon_and_starts_its_cart_window(fake: MemoryCoupons) -> None:
    # A sync stored a newer Smile answer first: the save keeps it, the bind still marks it.
    fake.create(email_pk(M, EMAIL), coupon_record(updated_at="2026-11-23T11:59:00Z"))

    applied = mark_applied(M, EMAIL, "55", coupon_record())

    assert (applied.applied_at, applied.shopify_customer_id) == ("2026-11-23T12:00:00Z", "55")
    stored = fake.find(email_pk(M, EMAIL), 7)
    assert stored is not None and stored.updated_at == "2026-11-23T11:59:00Z"
    assert (stored.applied_at, stored.shopify_customer_id) == (applied.applied_at, "55")
    assert fake.find(shopper_pk(M, "55"), 7) == applied
    assert coupon_status(stored, NOW, cart_window_hours=24) == "applied"


def test_an_order_using_the_code_marks_every_copy_used(fake: MemoryCoupons) -> None:
    mark_applied(M, EMAIL, "55", coupon_record())
    save_coupon(M, "bob@example.com", coupon_record(fulfillment_id=8, smile_customer_id=80))

    marked = mark_used_by_order(M, "hub-7", "order-1", "2026-11-23T12:30:00Z")

    assert marked == 3  # Ann's email and shopper copies, Bob's email copy
    for pk, fulfillment_id in (
        (email_pk(M, EMAIL), 7),
        (shopper_pk(M, "55"), 7),
        (email_pk(M, "bob@example.com"), 8),
    ):
        stored = fake.find(pk, fulfillment_id)
        assert stored is not None and stored.used_in_order_id == "order-1"
        assert coupon_status(stored, NOW, cart_window_hours=24) == "used"
    assert mark_used_by_order(M, "NO-SUCH-CODE", "order-2", "2026-11-23T12:31:00Z") == 0


def test_a_sync_merge_keeps_the_hub_fields_and_updates_the_shoppers_copy(
    fake: MemoryCoupons,
) -> None:
    mark_applied(M, EMAIL, "55", coupon_record())
    used = coupon_record(usage_status="used", updated_at="2026-11-23T12:10:00Z")

    assert merge_coupon_from_smile(M, EMAIL, used)

    for pk in (email_pk(M, EMAIL), shopper_pk(M, "55")):
        stored = fake.find(pk, 7)
        assert stored is not None and stored.usage_status == "used"
        assert (stored.applied_at, stored.shopify_customer_id) == ("2026-11-23T12:00:00Z", "55")
    assert not merge_coupon_from_smile(M, EMAIL, coupon_record(name="older"))


def test_a_new_fulfillment_is_created_in_one_write(fake: MemoryCoupons) -> None:
    assert merge_coupon_from_smile(M, EMAIL, coupon_record(), probably_new=True)
    assert fake.find(email_pk(M, EMAIL), 7) == coupon_record()
    assert fake.code_references(M, "HUB-7") == [{"email": EMAIL, "fulfillment_id": 7}]
    # Not new after all: the merge path, never backwards.
    assert not merge_coupon_from_smile(
        M, EMAIL, coupon_record(updated_at="2026-11-23T10:00:00Z"), probably_new=True
    )
