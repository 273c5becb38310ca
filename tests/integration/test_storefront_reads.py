"""Storefront reads through the real handlers: GET /loyalty, /rewards, /coupons, apply, CORS,
customer tokens, freshness, and coupons used by orders (events stream)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import boto3
import jwt
import pytest

from customer_hub.edge.storefront import forget_profiles
from customer_hub.identity import mint_customer_token
from customer_hub.infra import clock
from customer_hub.loyalty.coupon_sync import merge_coupon_from_smile
from customer_hub.loyalty.snapshots import (
    CouponRecord,
    VipSettings,
    load_program,
    save_coupon,
    save_program,
)
from customer_hub.merchants.profiles import SettingsPatch, update_settings
from hubdev.metering import metering
from hubdev.stack import LocalStack
from tests.conftest import make_merchant
from tests.support.api import InProcessApi, Reply, assert_problem
from tests.support.storefront import Shop, Shopper

PERSONAL = ("points_balance", "vip_tier", "next_vip_tier", "best_reward", "next_reward")


def get(api: InProcessApi, shop: Shop, route: str, token: str | None = None, **kw: Any) -> Reply:
    return api.get(shop.path(route), token=token, **kw)


def coupon(shop: Shop, shopper: Shopper, fid: int, **fields: Any) -> CouponRecord:
    record = CouponRecord.model_validate(
        {
            "fulfillment_id": fid,
            "smile_customer_id": shopper.smile_id or 1,
            "name": "$5 off",
            "code": f"HUB-CODE{fid}",
            "updated_at": "2026-11-20T10:00:00Z",
            **fields,
        }
    )
    save_coupon(shop.merchant_id, shopper.email, record)
    return record


# ------------------------------------------------------------------ GET /loyalty
def test_anonymous_shopper_gets_login_required_and_nothing_personal(
    api: InProcessApi, shop: Shop
) -> None:
    reply = get(api, shop, "loyalty")
    assert reply.status == 200, reply.body
    body = reply.json
    assert body["state"] == "login_required"
    assert body["points_label"] == {"one": "Coin", "other": "Coins"}
    assert all(body[key] is None for key in PERSONAL)
    assert body["rewards_preview"] == [] and body["referral_url"] is None


def test_member_sees_every_field_of_the_loyalty_component(api: InProcessApi, shop: Shop) -> None:
    shopper = shop.shopper(balance=350)
    coupon(shop, shopper, 501)
    reply = get(api, shop, "loyalty", shopper.token)
    assert reply.status == 200, reply.body
    body = reply.json
    assert body["state"] == "member" and body["points_balance"] == 350
    assert body["vip_tier"]["name"] == "Bronze"
    assert body["next_vip_tier"] == {
        "id": 2,
        "name": "Silver",
        "image_url": body["next_vip_tier"]["image_url"],
        "amount_needed": 150.0,
        "metric": "points_earned",
        "milestone": 500.0,
        "progress_value": 350.0,
        "percent": 70,
        "text": "150 Coins to Silver",
    }
    # 250 Coins for "$5 off" beats 300 Coins for $3 off (docs/reward-ranking.md).
    assert body["best_reward"] == {
        "points_product_id": 12,
        "name": "$5 off",
        "points_price": 250,
        "exchange_type": "fixed",
        "variable": None,
        "text": "Redeem 250 Coins for $5 off",
        "value": None,
    }
    assert body["next_reward"] == {
        "points_product_id": 13,
        "name": "$10 off",
        "points_price": 500,
        "points_needed": 150,
    }
    assert body["progress"] == {"current": 350, "target": 500, "percent": 70}
    assert [r["points_product_id"] for r in body["rewards_preview"]] == [12, 11, 16]
    assert body["rewards_preview"][2]["variable"] == {
        "min": 100,
        "max": 300,
        "min_value": {"amount": "1.00", "currency": "USD"},
        "max_value": {"amount": "3.00", "currency": "USD"},
    }
    assert body["coupons_available"] == 1
    assert body["referral_url"].startswith("http://i.refs.cc/")
    texts = {w["name"]: w["reward_text"] for w in body["ways_to_earn"]}
    assert texts["Place an order"] == "5 Coins for every $1 spent"
    assert texts["Create an account"] == "100 Coins"
    assert "Leave a photo review" not in texts, "restricted to Silver and Gold"
    assert body["synced_at"].endswith("Z")


@pytest.mark.parametrize(
    ("accept_language", "language", "best", "earn"),
    [
        (
            "pl-PL,pl;q=0.9,en;q=0.5",
            "pl",
            "Wymień 250 Coins na $5 off",
            "5 Coins za każde wydane 1 USD",
        ),
        ("pt-BR", "pt-BR", "Resgate 250 Coins para obter $5 off", "5 Coins a cada US$ 1 gastos"),
        ("pt", "pt-BR", "Resgate 250 Coins para obter $5 off", "5 Coins a cada US$ 1 gastos"),
        ("de-DE", "en", "Redeem 250 Coins for $5 off", "5 Coins for every $1 spent"),
        (None, "en", "Redeem 250 Coins for $5 off", "5 Coins for every $1 spent"),
    ],
)
def test_server_texts_follow_accept_language(
    api: InProcessApi,
    shop: Shop,
    accept_language: str | None,
    language: str,
    best: str,
    earn: str,
) -> None:
    shopper = shop.shopper(balance=350)
    headers = {"accept-language": accept_language} if accept_language else {}
    reply = get(api, shop, "loyalty", shopper.token, headers={"origin": shop.origin, **headers})
    assert reply.status == 200, reply.body
    assert reply.headers["content-language"] == language
    varies = {v.strip().lower() for v in reply.headers["vary"].split(",")}
    assert {"accept-language", "origin"} <= varies
    body = reply.json
    assert body["best_reward"]["text"] == best
    texts = {w["name"]: w["reward_text"].replace("\xa0", " ") for w in body["ways_to_earn"]}
    assert texts["Place an order"] == earn
    page = get(api, shop, "rewards", shopper.token, headers=headers)
    assert page.headers["content-language"] == language
    assert {w["reward_text"].replace("\xa0", " ") for w in page.json["ways_to_earn"]} >= {earn}
    refused = get(api, shop, "coupons", None, headers=headers)
    assert refused.status == 401 and refused.headers["content-language"] == language


def test_vip_progress_in_the_programs_unit_and_referral_hidden_while_inactive(
    api: InProcessApi, shop: Shop
) -> None:
    shopper = shop.shopper(balance=350)
    program = load_program(shop.merchant_id, max_age=0)
    assert program is not None
    changed = program.model_copy(
        update={
            "vip_settings": VipSettings(milestone_type="amount_spent"),
            "referral_settings": {**(program.referral_settings or {}), "status": "inactive"},
        }
    )
    save_program(shop.merchant_id, changed)
    body = get(api, shop, "loyalty", shopper.token).json
    assert body["next_vip_tier"]["metric"] == "amount_spent"
    assert body["next_vip_tier"]["text"] == "$150 more to Silver"
    assert body["referral_url"] is None
    assert get(api, shop, "rewards", shopper.token).json["referral_url"] is None
    polish = get(api, shop, "loyalty", shopper.token, headers={"accept-language": "pl"}).json
    assert (
        polish["next_vip_tier"]["text"].replace("\xa0", " ")
        == "Wydaj jeszcze 150 USD, aby zdobyć poziom Silver"
    )


@pytest.mark.parametrize(
    ("balance", "state", "expected"),
    [(0, "candidate", "join"), (0, "member", "join"), (900, "disabled", "excluded")],
)
def test_join_and_excluded_states(
    api: InProcessApi, shop: Shop, balance: int, state: str, expected: str
) -> None:
    shopper = shop.shopper(balance=balance, state=state)
    body = get(api, shop, "loyalty", shopper.token).json
    assert body["state"] == expected
    if expected == "join":
        assert body["progress"] == {"current": 0, "target": 100, "percent": 0}
        assert body["points_balance"] == 0 and body["best_reward"] is None
    else:
        assert all(body[key] is None for key in PERSONAL)
        assert body["ways_to_earn"] == [] and body["referral_url"] is None


def test_not_member_has_no_loyalty_values_but_keeps_their_coupons(
    api: InProcessApi, shop: Shop
) -> None:
    shopper = shop.shopper(balance=None)
    coupon(shop, shopper, 601, shopify_customer_id=shopper.sub)
    body = get(api, shop, "loyalty", shopper.token).json
    assert body["state"] == "not_member"
    assert all(body[key] is None for key in PERSONAL)
    assert body["coupons_available"] == 1
    coupons = get(api, shop, "coupons", shopper.token).json
    assert coupons["available_count"] == 1
    assert coupons["available"][0]["code"] == "HUB-CODE601"


def test_the_member_preferred_among_customers_sharing_an_email(
    api: InProcessApi, shop: Shop
) -> None:
    first = shop.shopper(balance=40, state="candidate")
    twin = shop.account.add_customer(first.email, state="member", points_balance=700)
    shop.snapshot_customer(int(twin["id"]))
    assert get(api, shop, "loyalty", first.token).json["points_balance"] == 700


def test_warm_loyalty_read_costs_at_most_two_dynamodb_requests(
    api: InProcessApi, shop: Shop
) -> None:
    shopper = shop.shopper(balance=350)
    assert get(api, shop, "loyalty", shopper.token).status == 200  # warms the caches
    with metering() as meter:
        assert get(api, shop, "loyalty", shopper.token).status == 200
    assert meter.total <= 2, meter.calls


def test_unknown_shop_is_404(api: InProcessApi, shop: Shop) -> None:
    assert_problem(api.get("/v1/shops/m_0000000000000000/hub/loyalty"), 404, "not-found")


# ------------------------------------------------------------------ customer tokens
def _claims(shop: Shop, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": shop.merchant_id, "sub": "123456", "email": "a@example.com"}
    claims.update(iat=now, exp=now + 300)
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _bad_tokens(shop: Shop, other: Shop) -> dict[str, str]:
    secret = shop.merchant.customer_token_secret
    now = int(time.time())
    unsigned = jwt.encode(_claims(shop), key=None, algorithm="none")  # type: ignore[arg-type]
    return {
        "expired": jwt.encode(_claims(shop, iat=now - 900, exp=now - 300), secret, "HS256"),
        "wrong key": jwt.encode(_claims(shop), "another-secret-of-32-bytes-length!!", "HS256"),
        "alg none": unsigned,
        "alg HS512": jwt.encode(_claims(shop), secret, "HS512"),
        "iss of another merchant": jwt.encode(_claims(shop, iss=other.merchant_id), secret),
        "token of merchant A on B's path": other.token("123456", "a@example.com"),
        "lifetime above an hour": jwt.encode(_claims(shop, exp=now + 7200), secret, "HS256"),
        "no email": jwt.encode(_claims(shop, email=None), secret, "HS256"),
        "no sub": jwt.encode(_claims(shop, sub=None), secret, "HS256"),
        "sub not digits": jwt.encode(_claims(shop, sub="gid://shopify/1"), secret, "HS256"),
        "garbage": "not-a-jwt",
    }


def test_token_matrix(api: InProcessApi, shop: Shop, smile_standin: Any) -> None:
    from tests.support.storefront import connect_shop

    other = connect_shop(make_merchant(), smile_standin, shop.api_key)
    for name, token in _bad_tokens(shop, other).items():
        for route in ("loyalty", "rewards", "coupons"):
            reply = get(api, shop, route, token)
            assert reply.status == 401, (name, route, reply.body)
            assert_problem(reply, 401, "unauthorized")
    for route in ("rewards", "coupons"):
        assert_problem(get(api, shop, route), 401, "unauthorized")
    redeem = api.post(
        shop.path("rewards/11/redeem"), json_body={}, headers={"idempotency-key": "k"}
    )
    assert_problem(redeem, 401, "unauthorized")
    assert_problem(api.post(shop.path("coupons/1/apply")), 401, "unauthorized")
    good = mint_customer_token(shop.merchant_id, shop.merchant.customer_token_secret, "1", "a@b.co")
    assert get(api, shop, "loyalty", good).json["state"] == "not_member"


# ------------------------------------------------------------------ CORS
def test_cors_allows_the_merchants_shop_origin_only(api: InProcessApi, shop: Shop) -> None:
    allowed = get(api, shop, "loyalty", headers={"origin": shop.origin})
    assert allowed.headers["access-control-allow-origin"] == shop.origin
    assert "idempotent-replayed" in allowed.headers["access-control-expose-headers"]
    error = get(api, shop, "rewards", headers={"origin": shop.origin})
    assert error.status == 401 and error.headers["access-control-allow-origin"] == shop.origin
    foreign = get(api, shop, "loyalty", headers={"origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in foreign.headers

    preflight = api.request(
        "OPTIONS",
        shop.path("rewards/11/redeem"),
        headers={"origin": shop.origin, "access-control-request-method": "POST"},
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == shop.origin
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"]
    assert "POST" in preflight.headers["access-control-allow-methods"]
    refused = api.request(
        "OPTIONS", shop.path("loyalty"), headers={"origin": "https://evil.example.com"}
    )
    assert_problem(refused, 403, "forbidden")
    assert "access-control-allow-origin" not in refused.headers
    unknown = api.request("OPTIONS", "/v1/shops/m_0000000000000000/hub/loyalty")
    assert_problem(unknown, 404, "not-found")


# ------------------------------------------------------------------ GET /rewards
def test_rewards_page_lists_redeemable_and_locked(api: InProcessApi, shop: Shop) -> None:
    shopper = shop.shopper(balance=300)
    coupon(shop, shopper, 701, applied_at=clock.iso(clock.now()), shopify_customer_id=shopper.sub)
    coupon(shop, shopper, 702)
    body = get(api, shop, "rewards", shopper.token).json
    assert body["state"] == "member" and body["points_balance"] == 300
    assert [r["points_product_id"] for r in body["redeemable"]] == [11, 16, 12]
    assert [(r["points_product_id"], r["points_needed"]) for r in body["locked"]] == [
        (13, 200),
        (14, 450),
        (15, 1200),
    ]
    variable = next(r for r in body["redeemable"] if r["exchange_type"] == "variable")
    assert variable["variable"] == {
        "min": 100,
        "max": 5000,
        "step": 100,
        "step_value": {"amount": "1.00", "currency": "USD"},
    }
    assert [c["id"] for c in body["coupons"]["applied"]] == [701]
    assert [c["id"] for c in body["coupons"]["available"]] == [702]
    assert body["progress"]["percent"] == 60


def test_rewards_without_a_program_snapshot_is_smile_not_connected(
    api: InProcessApi, stack: LocalStack
) -> None:
    merchant = make_merchant()
    token = mint_customer_token(merchant.merchant_id, merchant.customer_token_secret, "1", "a@b.co")
    reply = api.get(f"/v1/shops/{merchant.merchant_id}/hub/rewards", token=token)
    assert_problem(reply, 409, "smile-not-connected")


# ------------------------------------------------------------------ coupons and apply
def test_coupon_lifecycle_apply_cart_window_and_used(
    api: InProcessApi, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    shopper = shop.shopper(balance=100)
    coupon(shop, shopper, 801)
    coupon(shop, shopper, 802, usage_status="used")
    coupon(shop, shopper, 803, fulfillment_status="pending", code=None)
    coupon(shop, shopper, 804, expires_at="2020-01-01T00:00:00Z")
    page = get(api, shop, "coupons", shopper.token).json
    assert page["available_count"] == 1 and [c["id"] for c in page["available"]] == [801]

    applied = api.post(shop.path("coupons/801/apply"), token=shopper.token)
    assert applied.status == 200, applied.body
    assert applied.json["coupon"]["status"] == "applied"
    assert applied.json["apply_url"] == f"{shop.origin}/discount/HUB-CODE801?redirect=/cart"
    page = get(api, shop, "coupons", shopper.token).json
    assert [c["id"] for c in page["applied"]] == [801] and page["available_count"] == 0

    later = clock.now() + timedelta(hours=24, minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    page = get(api, shop, "coupons", shopper.token).json
    assert [c["id"] for c in page["available"]] == [801], "cart window passed without an order"

    assert_problem(api.post(shop.path("coupons/802/apply"), token=shopper.token), 409, "conflict")
    assert_problem(api.post(shop.path("coupons/803/apply"), token=shopper.token), 409, "conflict")
    assert_problem(api.post(shop.path("coupons/999/apply"), token=shopper.token), 404, "not-found")
    assert_problem(api.post(shop.path("coupons/abc/apply"), token=shopper.token), 404, "not-found")
    stranger = shop.shopper(balance=100)
    assert_problem(api.post(shop.path("coupons/801/apply"), token=stranger.token), 404, "not-found")
    extra = api.post(shop.path("coupons/801/apply"), token=shopper.token, json_body={"x": 1})
    assert_problem(extra, 422, "validation")


def test_cart_window_follows_the_merchant_setting(
    api: InProcessApi, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    update_settings(shop.merchant_id, SettingsPatch(cart_window_hours=2))
    forget_profiles()
    shopper = shop.shopper(balance=100)
    coupon(shop, shopper, 811)
    assert api.post(shop.path("coupons/811/apply"), token=shopper.token).status == 200
    later = clock.now() + timedelta(hours=2, minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert get(api, shop, "coupons", shopper.token).json["available_count"] == 1


def test_an_order_using_the_code_marks_the_coupon_used(
    api: InProcessApi, shop: Shop, stack: LocalStack
) -> None:
    shopper = shop.shopper(balance=100)
    coupon(shop, shopper, 821)
    coupon(shop, shopper, 822)
    assert api.post(shop.path("coupons/821/apply"), token=shopper.token).status == 200
    events = boto3.client("dynamodb", endpoint_url=stack.endpoint)
    events.put_item(
        TableName=stack.resources.table_names["EventsTable"],
        Item={
            "pk": {"S": f"MERCHANT#{shop.merchant_id}#ORDER#9001"},
            "sk": {"S": "ORDER"},
            "kind": {"S": "order"},
            "merchant_id": {"S": shop.merchant_id},
            "order_id": {"S": "9001"},
            "created_at": {"S": clock.iso(clock.now())},
            "discount_codes": {"L": [{"S": "hub-code821"}]},
        },
    )
    stack.drain()
    page = get(api, shop, "coupons", shopper.token).json
    assert page["applied"] == [] and [c["id"] for c in page["available"]] == [822]
    assert_problem(api.post(shop.path("coupons/821/apply"), token=shopper.token), 409, "conflict")


def test_a_coupon_the_sync_brought_is_marked_used_by_an_order_too(
    api: InProcessApi, shop: Shop, stack: LocalStack
) -> None:
    shopper = shop.shopper(balance=100)
    synced = CouponRecord(
        fulfillment_id=831,
        smile_customer_id=shopper.smile_id or 1,
        name="$5 off",
        code="HUB-SYNCED831",
        updated_at="2026-11-20T10:00:00Z",
    )
    merge_coupon_from_smile(shop.merchant_id, shopper.email, synced, probably_new=True)
    assert get(api, shop, "coupons", shopper.token).json["available_count"] == 1
    _order(stack, shop, "9002", ["HUB-SYNCED831"])
    assert get(api, shop, "coupons", shopper.token).json["available_count"] == 0


def _order(stack: LocalStack, shop: Shop, order_id: str, codes: list[str]) -> None:
    boto3.client("dynamodb", endpoint_url=stack.endpoint).put_item(
        TableName=stack.resources.table_names["EventsTable"],
        Item={
            "pk": {"S": f"MERCHANT#{shop.merchant_id}#ORDER#{order_id}"},
            "sk": {"S": "ORDER"},
            "kind": {"S": "order"},
            "merchant_id": {"S": shop.merchant_id},
            "order_id": {"S": order_id},
            "created_at": {"S": clock.iso(clock.now())},
            "discount_codes": {"L": [{"S": code} for code in codes]},
        },
    )
    stack.drain()


# ------------------------------------------------------------------ freshness
def test_a_stale_snapshot_is_refreshed_from_smile(api: InProcessApi, shop: Shop) -> None:
    old = clock.iso(clock.now() - timedelta(minutes=11))
    shopper = shop.shopper(balance=100, synced_at=old)
    assert shopper.smile_id is not None
    shop.account.update_customer(shopper.smile_id, points_balance=640)
    body = get(api, shop, "loyalty", shopper.token).json
    assert body["points_balance"] == 640
    assert body["synced_at"] > old
    fresh = get(api, shop, "loyalty", shopper.token).json
    assert fresh["points_balance"] == 640


def test_smile_down_serves_the_snapshot_within_the_budget(api: InProcessApi, shop: Shop) -> None:
    old = clock.iso(clock.now() - timedelta(minutes=30))
    shopper = shop.shopper(balance=120, synced_at=old)
    shop.account.faults.update({"slow_seconds": 3.0})
    try:
        started = time.monotonic()
        body = get(api, shop, "loyalty", shopper.token).json
        elapsed = time.monotonic() - started
    finally:
        shop.account.faults.update({"slow_seconds": 0.0})
    assert body["points_balance"] == 120 and body["synced_at"] == old
    assert elapsed < 2.5, elapsed
    shop.account.faults.update({"down": True})
    try:
        body = get(api, shop, "rewards", shopper.token).json
    finally:
        shop.account.faults.update({"down": False})
    assert body["points_balance"] == 120
