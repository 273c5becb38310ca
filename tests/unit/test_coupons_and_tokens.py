"""Coupon lifecycle rules and the customer token, without AWS."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from customer_hub.identity import InvalidCustomerToken, mint_customer_token, verify_customer_token
from customer_hub.loyalty.snapshots import CouponRecord
from customer_hub.shoppers.coupons import apply_url, coupon_status, coupons_page

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SECRET = "a-customer-token-secret-of-enough-length"


def record(**fields: Any) -> CouponRecord:
    return CouponRecord.model_validate(
        {
            "fulfillment_id": 1,
            "smile_customer_id": 2,
            "name": "$5 off",
            "code": "HUB-1",
            "updated_at": "2026-11-20T10:00:00Z",
            **fields,
        }
    )


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({}, "available"),
        ({"fulfillment_status": "pending", "code": None}, "pending"),
        ({"applied_at": "2026-11-23T00:00:00Z"}, "applied"),
        ({"applied_at": "2026-11-22T11:59:00Z"}, "available"),
        ({"applied_at": "2026-11-23T00:00:00Z", "used_in_order_id": "9"}, "used"),
        ({"usage_status": "used"}, "used"),
        ({"fulfillment_status": "cancelled"}, None),
        ({"fulfillment_status": "failed"}, None),
        ({"expires_at": "2026-11-23T11:00:00Z"}, None),
        ({"expires_at": "2026-12-01T00:00:00Z"}, "available"),
    ],
)
def test_coupon_status(fields: dict[str, Any], status: str | None) -> None:
    assert coupon_status(record(**fields), NOW, 24) == status


def test_cart_window_is_the_merchant_setting() -> None:
    applied = record(applied_at="2026-11-23T09:00:00Z")
    assert coupon_status(applied, NOW, 4) == "applied"
    assert coupon_status(applied, NOW, 2) == "available"


def test_coupons_page_lists_applied_and_available_newest_first() -> None:
    coupons = [
        record(fulfillment_id=1),
        record(fulfillment_id=3),
        record(fulfillment_id=2, applied_at="2026-11-23T11:00:00Z"),
        record(fulfillment_id=4, usage_status="used"),
    ]
    page = coupons_page(coupons, NOW, 24)
    assert [c["id"] for c in page["available"]] == [3, 1]
    assert [c["id"] for c in page["applied"]] == [2]
    assert page["applied"][0]["applied_at"] == "2026-11-23T11:00:00Z"
    assert page["available"][0]["applied_at"] is None


def test_apply_url_escapes_the_code() -> None:
    assert apply_url("shop.myshopify.com", "A B/1") == (
        "https://shop.myshopify.com/discount/A%20B%2F1?redirect=/cart"
    )


def test_a_minted_token_verifies_and_lowercases_the_email() -> None:
    token = mint_customer_token("m_1", SECRET, "123", "Ana@Example.com", 300)
    customer = verify_customer_token(token, "m_1", SECRET)
    assert (customer.shopify_customer_id, customer.email) == ("123", "ana@example.com")


def test_small_clock_skew_is_tolerated_but_not_more() -> None:
    now = int(time.time())
    token = mint_customer_token("m_1", SECRET, "1", "a@b.co", 300, issued_at=now - 310)
    verify_customer_token(token, "m_1", SECRET)  # expired 10 s ago: within the leeway
    with pytest.raises(InvalidCustomerToken):
        verify_customer_token(token, "m_1", SECRET, now=now + 60)
    future = mint_customer_token("m_1", SECRET, "1", "a@b.co", 300, issued_at=now + 120)
    with pytest.raises(InvalidCustomerToken):
        verify_customer_token(future, "m_1", SECRET)


def test_non_numeric_times_are_refused() -> None:
    claims = {"iss": "m_1", "sub": "1", "email": "a@b.co", "iat": "now", "exp": "later"}
    with pytest.raises(InvalidCustomerToken):
        verify_customer_token(jwt.encode(claims, SECRET, "HS256"), "m_1", SECRET)


def test_lifetime_of_exactly_an_hour_is_allowed() -> None:
    token = mint_customer_token("m_1", SECRET, "1", "a@b.co", 3600)
    assert verify_customer_token(token, "m_1", SECRET).email == "a@b.co"
    too_long = mint_customer_token("m_1", SECRET, "1", "a@b.co", 3601)
    with pytest.raises(InvalidCustomerToken):
        verify_customer_token(too_long, "m_1", SECRET)


def test_reference_now_is_used_for_expiry() -> None:
    token = mint_customer_token("m_1", SECRET, "1", "a@b.co", 300)
    later = (datetime.now(UTC) + timedelta(minutes=10)).timestamp()
    with pytest.raises(InvalidCustomerToken):
        verify_customer_token(token, "m_1", SECRET, now=later)


def _signed(**claims: Any) -> str:
    now = int(time.time())
    base = {"iss": "m_1", "sub": "1", "email": "a@b.co", "iat": now, "exp": now + 300}
    return jwt.encode({**base, **claims}, SECRET, "HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": float("inf")},
        {"exp": float("nan")},
        {"iat": float("-inf")},
        {"iat": float("nan")},
        {"exp": float("inf"), "iat": float("-inf")},
        {"exp": True},
        {"iat": True},
    ],
)
def test_non_finite_or_boolean_times_are_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(InvalidCustomerToken):
        verify_customer_token(_signed(**claims), "m_1", SECRET)


@pytest.mark.parametrize("sub", ["123\n", "١٢٣", "12 3", "", "1" * 21, "+1"])
def test_sub_must_be_only_ascii_digits(sub: str) -> None:
    with pytest.raises(InvalidCustomerToken):
        verify_customer_token(_signed(sub=sub), "m_1", SECRET)
