"""POST /rewards/{id}/redeem through the real handler against the Smile stand-in: statuses,
the idempotency matrix, the race of parallel clicks, a crash after Smile's purchase, Smile down."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import boto3
import pytest

from customer_hub.infra import clock
from customer_hub.loyalty.snapshots import email_pk
from customer_hub.redemption import finishing, holds, idempotency
from hubdev.stack import LocalStack
from tests.support.api import InProcessApi, Reply, assert_problem
from tests.support.hub import launch
from tests.support.storefront import Shop, Shopper


def redeem(
    api: InProcessApi,
    shop: Shop,
    shopper: Shopper,
    product: int | str = 11,
    body: dict[str, Any] | None = None,
    key: str | None = None,
) -> Reply:
    return api.post(
        shop.path(f"rewards/{product}/redeem"),
        token=shopper.token,
        json_body={} if body is None else body,
        headers={"idempotency-key": key or str(uuid.uuid4()), "origin": shop.origin},
    )


def snapshot_balance(shop: Shop, shopper: Shopper) -> int:
    table = boto3.client("dynamodb").get_item(
        TableName=_data_table(),
        Key={
            "pk": {"S": email_pk(shop.merchant_id, shopper.email)},
            "sk": {"S": f"CUSTOMER#{shopper.smile_id}"},
        },
        ConsistentRead=True,
    )
    return int(table["Item"]["points_balance"]["N"])


def _data_table() -> str:
    from customer_hub.infra.config import config

    return config().data_table


def hub_events(stack: LocalStack, shop: Shop) -> list[dict[str, Any]]:
    from customer_hub.infra.store import Table

    table = Table(stack.resources.table_names["EventsTable"])
    found = []
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.endpoint)
    for page in dynamodb.get_paginator("scan").paginate(TableName=table.name):
        for item in page["Items"]:
            if item.get("merchant_id", {}).get("S") == shop.merchant_id:
                found.append({k: next(iter(v.values())) for k, v in item.items()})
    return found


# ------------------------------------------------------------------ success and replay
def test_redeem_applies_a_coupon_debits_at_once_and_replays(
    api: InProcessApi, shop: Shop, stack: LocalStack
) -> None:
    launch(api, shop.merchant)  # interactions are recorded while the hub is live (SPEC §6.5)
    shopper = shop.shopper(balance=350)
    key = str(uuid.uuid4())
    reply = redeem(api, shop, shopper, 12, key=key)
    assert reply.status == 201, reply.body
    body = reply.json
    coupon = body["coupon"]
    assert coupon["status"] == "applied" and coupon["code"].startswith("HUB-")
    assert coupon["name"] == "$5 off" and coupon["applied_at"]
    assert body["points_balance"] == 100
    assert body["apply_url"] == f"{shop.origin}/discount/{coupon['code']}?redirect=/cart"
    assert reply.headers["access-control-allow-origin"] == shop.origin
    assert "idempotent-replayed" not in reply.headers
    assert shop.smile_balance(shopper) == 100 and len(shop.purchases()) == 1

    loyalty = api.get(shop.path("loyalty"), token=shopper.token).json
    assert loyalty["points_balance"] == 100, "the new balance shows on the next read"
    coupons = api.get(shop.path("coupons"), token=shopper.token).json
    assert [c["code"] for c in coupons["applied"]] == [coupon["code"]]

    again = redeem(api, shop, shopper, 12, key=key)
    assert again.status == 201 and again.json == body
    assert again.headers["idempotent-replayed"] == "true"
    assert len(shop.purchases()) == 1 and shop.smile_balance(shopper) == 100

    recorded = [e for e in hub_events(stack, shop) if e.get("type") == "coupon_applied"]
    assert len(recorded) == 1 and recorded[0]["coupon_code"] == coupon["code"]
    assert recorded[0]["customer_id"] == shopper.sub


def test_same_key_with_another_body_is_422_and_keys_are_per_shopper(
    api: InProcessApi, shop: Shop
) -> None:
    shopper = shop.shopper(balance=1000)
    key = str(uuid.uuid4())
    assert redeem(api, shop, shopper, 11, key=key).status == 201
    assert_problem(redeem(api, shop, shopper, 12, key=key), 422, "idempotency-key-reused")
    variable = redeem(api, shop, shopper, 16, {"points_to_spend": 200}, key=key)
    assert_problem(variable, 422, "idempotency-key-reused")
    other = shop.shopper(balance=1000)
    assert redeem(api, shop, other, 11, key=key).status == 201, "another shopper's key space"
    assert len(shop.purchases()) == 2


def test_same_key_while_the_first_is_in_flight_is_409(api: InProcessApi, shop: Shop) -> None:
    shopper = shop.shopper(balance=1000)
    key = str(uuid.uuid4())
    shop.account.faults.update({"slow_seconds": 1.5, "paths": ["/points_products"]})
    results: list[Reply] = []
    first = threading.Thread(target=lambda: results.append(redeem(api, shop, shopper, 11, key=key)))
    try:
        first.start()
        for _ in range(100):
            if shop.standin.requests(shop.account, "/points_products/"):
                break
            threading.Event().wait(0.02)
        assert_problem(redeem(api, shop, shopper, 11, key=key), 409, "idempotency-key-in-use")
        first.join()
    finally:
        shop.account.faults.update({"slow_seconds": 0.0, "paths": []})
    assert results[0].status == 201
    assert len(shop.purchases()) == 1


@pytest.mark.parametrize(
    ("key", "why"),
    [(None, "missing"), ("", "empty"), ("x" * 256, "too long"), ("tab\tkey", "not printable")],
)
def test_idempotency_key_is_required_and_checked(
    api: InProcessApi, shop: Shop, key: str | None, why: str
) -> None:
    shopper = shop.shopper(balance=1000)
    headers = {} if key is None else {"idempotency-key": key}
    reply = api.post(
        shop.path("rewards/11/redeem"), token=shopper.token, json_body={}, headers=headers
    )
    assert_problem(reply, 422, "validation")
    assert not shop.purchases(), why


# ------------------------------------------------------------------ refusals
def test_refusals_spend_nothing(api: InProcessApi, shop: Shop) -> None:
    shopper = shop.shopper(balance=300)
    poor = assert_problem(redeem(api, shop, shopper, 13), 409, "insufficient-points")
    assert poor["points_needed"] == 200
    too_much = redeem(api, shop, shopper, 16, {"points_to_spend": 400})
    assert assert_problem(too_much, 409, "insufficient-points")["points_needed"] == 100
    assert_problem(redeem(api, shop, shopper, 99), 404, "not-found")
    assert_problem(redeem(api, shop, shopper, "abc"), 404, "not-found")
    for body in ({}, {"points_to_spend": 50}, {"points_to_spend": 150}, {"points_to_spend": 6000}):
        assert_problem(redeem(api, shop, shopper, 16, body), 422, "validation")
    assert_problem(redeem(api, shop, shopper, 11, {"points_to_spend": 100}), 422, "validation")
    assert_problem(redeem(api, shop, shopper, 11, {"unknown": 1}), 422, "validation")
    assert_problem(redeem(api, shop, shopper, 16, {"points_to_spend": "200"}), 422, "validation")
    excluded = shop.shopper(balance=900, state="disabled")
    assert_problem(redeem(api, shop, excluded, 11), 403, "forbidden")
    outsider = shop.shopper(balance=None)
    assert_problem(redeem(api, shop, outsider, 11), 403, "forbidden")
    assert not shop.purchases() and shop.smile_balance(shopper) == 300
    assert snapshot_balance(shop, shopper) == 300


def test_variable_reward_spends_the_chosen_points(api: InProcessApi, shop: Shop) -> None:
    shopper = shop.shopper(balance=750)
    reply = redeem(api, shop, shopper, 16, {"points_to_spend": 500})
    assert reply.status == 201, reply.body
    assert reply.json["points_balance"] == 250 and shop.smile_balance(shopper) == 250


def test_smile_refusing_a_stale_balance_is_insufficient_points(
    api: InProcessApi, shop: Shop
) -> None:
    shopper = shop.shopper(balance=600)
    assert shopper.smile_id is not None
    shop.account.update_customer(shopper.smile_id, points_balance=50)  # snapshot still says 600
    assert_problem(redeem(api, shop, shopper, 13), 409, "insufficient-points")
    assert not shop.purchases()
    shop.account.update_customer(shopper.smile_id, points_balance=600)
    assert redeem(api, shop, shopper, 13).status == 201, "the hold was released"
    shop.account.update_customer(shopper.smile_id, state="disabled")  # snapshot: still member
    assert_problem(redeem(api, shop, shopper, 11), 403, "forbidden")
    assert len(shop.purchases()) == 1


# ------------------------------------------------------------------ Smile failures
@pytest.mark.parametrize(
    ("fault", "status"),
    # A reset or a 500 may come after Smile acted: tests/integration/test_redeem_uncertain.py.
    [({"fail_next": [503]}, 503)],
)
def test_smile_failure_is_retryable_and_spends_nothing(
    api: InProcessApi, shop: Shop, fault: dict[str, Any], status: int
) -> None:
    shopper = shop.shopper(balance=350)
    key = str(uuid.uuid4())
    shop.account.faults.update({**fault, "paths": ["/points_products"]})
    try:
        failed = redeem(api, shop, shopper, 12, key=key)
    finally:
        shop.account.faults.update({"down": False, "fail_next": [], "paths": []})
    problem = assert_problem(failed, status, "upstream-unavailable")
    assert failed.headers.get("retry-after"), problem
    assert shop.smile_balance(shopper) == 350 and snapshot_balance(shop, shopper) == 350
    retried = redeem(api, shop, shopper, 12, key=key)
    assert retried.status == 201, retried.body
    assert len(shop.purchases()) == 1 and shop.smile_balance(shopper) == 100


def test_dynamodb_throttled_before_smile_frees_the_key_and_the_points_at_once(
    api: InProcessApi, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    shopper = shop.shopper(balance=250)  # exactly one "$5 off"
    key = str(uuid.uuid4())
    hold_points = holds.hold_points
    throttled = {"left": 1}

    def throttled_once(*args: Any, **kwargs: Any) -> Any:
        if throttled["left"]:
            throttled["left"] -= 1
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                "UpdateItem",
            )
        return hold_points(*args, **kwargs)

    monkeypatch.setattr(holds, "hold_points", throttled_once)
    failed = redeem(api, shop, shopper, 12, key=key)
    assert_problem(failed, 503, "temporarily-unavailable")
    assert failed.headers.get("retry-after")
    assert not shop.purchases()
    # The same click again, right away: the key is not held for a lease, and the held points
    # are back (a hold left in place would leave 0 of 250 available).
    retried = redeem(api, shop, shopper, 12, key=key)
    assert retried.status == 201, retried.body
    assert len(shop.purchases()) == 1 and shop.smile_balance(shopper) == 0
    assert snapshot_balance(shop, shopper) == 0


# ------------------------------------------------------------------ the race
def test_twelve_parallel_redemptions_spend_exactly_the_balance(
    api: InProcessApi, shop: Shop
) -> None:
    shopper = shop.shopper(balance=750)  # exactly 3 x "$5 off" (250)
    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(lambda _: redeem(api, shop, shopper, 12), range(12)))
    statuses = sorted(r.status for r in replies)
    assert statuses == [201] * 3 + [409] * 9, [
        (r.status, (r.json or {}).get("detail")) for r in replies
    ]
    for reply in replies:
        if reply.status == 409:
            assert_problem(reply, 409, "insufficient-points")
    assert len(shop.purchases()) == 3
    assert shop.smile_balance(shopper) == 0
    assert snapshot_balance(shop, shopper) == 0
    assert min(r.json["points_balance"] for r in replies if r.status == 201) >= 0
    codes = {r.json["coupon"]["code"] for r in replies if r.status == 201}
    assert len(codes) == 3


# ------------------------------------------------------------------ crash after the purchase
class Killed(BaseException):
    """The Lambda sandbox dies: no except/finally of the handler runs."""


@pytest.mark.parametrize(
    "crash_point",
    ["before the local write", "in the local write"],
)
def test_crash_after_smile_purchase_is_reconciled_without_a_second_purchase(
    api: InProcessApi, shop: Shop, monkeypatch: pytest.MonkeyPatch, crash_point: str
) -> None:
    shopper = shop.shopper(balance=1000)
    key = str(uuid.uuid4())

    def killed(*_args: Any, **_kwargs: Any) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        if crash_point == "before the local write":
            patch.setattr(finishing, "finish", killed)
        else:
            patch.setattr(finishing.writes, "all_at_once", killed)
        with pytest.raises(Killed):
            redeem(api, shop, shopper, 12, key=key)
    assert len(shop.purchases()) == 1 and shop.smile_balance(shopper) == 750
    assert_problem(redeem(api, shop, shopper, 12, key=key), 409, "idempotency-key-in-use")

    later = clock.now() + timedelta(seconds=idempotency.LEASE_SECONDS + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    retried = redeem(api, shop, shopper, 12, key=key)
    assert retried.status == 201, retried.body
    assert len(shop.purchases()) == 1, "no second purchase"
    issued = [f for f in shop.account.fulfillments.values() if f["customer_id"] == shopper.smile_id]
    assert retried.json["coupon"]["id"] == issued[0]["id"]
    assert retried.json["points_balance"] == 750
    assert snapshot_balance(shop, shopper) == 750, "debited once"
    assert api.get(shop.path("loyalty"), token=shopper.token).json["points_balance"] == 750
    assert redeem(api, shop, shopper, 12, key=key).headers["idempotent-replayed"] == "true"


# ------------------------------------------------------------------ pending fulfillment
def test_a_pending_coupon_is_returned_pending_and_completed_by_a_read(
    api: InProcessApi, shop: Shop
) -> None:
    shopper = shop.shopper(balance=350)
    shop.account.issue_after = 60.0
    reply = redeem(api, shop, shopper, 11)
    assert reply.status == 201, reply.body
    coupon = reply.json["coupon"]
    assert coupon["status"] == "pending" and coupon["code"] is None
    assert reply.json["apply_url"] is None
    assert api.get(shop.path("coupons"), token=shopper.token).json["applied"] == []

    with shop.account.lock:
        shop.account._pending[coupon["id"]] = 0.0  # Smile issues it now
    page = api.get(shop.path("coupons"), token=shopper.token).json
    assert [c["id"] for c in page["applied"]] == [coupon["id"]]
    assert page["applied"][0]["code"].startswith("HUB-")
