"""Storefront reads at scale (issue 18): one DynamoDB request per warm member view, and a new
Smile member shown at once (looked up by email through the shared limiter, misses noted)."""

from __future__ import annotations

from typing import Any

import pytest

from customer_hub.infra import clock
from customer_hub.infra.store import Table
from customer_hub.loyalty.snapshots import LOOKUP_SK, email_pk
from customer_hub.smile import freshness
from hubdev.metering import metering
from hubdev.stack import LocalStack
from tests.support.api import InProcessApi
from tests.support.storefront import Shop


def _loyalty(api: InProcessApi, shop: Shop, token: str) -> dict[str, Any]:
    reply = api.get(shop.path("loyalty"), token=token)
    assert reply.status == 200, reply.json
    return dict(reply.json)


def _lookups(shop: Shop) -> list[Any]:
    return [r for r in shop.standin.requests(shop.account, "/customers") if "email" in r.query]


def test_a_warm_member_view_is_one_dynamodb_request(api: InProcessApi, shop: Shop) -> None:
    shopper = shop.shopper(balance=350)
    _loyalty(api, shop, shopper.token)  # warms the profile, program and shopper caches
    with metering() as meter:
        body = _loyalty(api, shop, shopper.token)
    assert body["state"] == "member" and body["points_balance"] == 350
    assert meter.total == 1, meter.calls


def test_a_new_smile_member_is_a_member_at_once(
    api: InProcessApi, shop: Shop, stack: LocalStack
) -> None:
    shopper = shop.shopper(balance=420, in_snapshot=False)  # joined Smile after the last sync
    body = _loyalty(api, shop, shopper.token)
    assert body["state"] == "member" and body["points_balance"] == 420
    assert len(_lookups(shop)) == 1
    again = _loyalty(api, shop, shopper.token)
    assert again["points_balance"] == 420 and len(_lookups(shop)) == 1, "stored: no second call"


def test_a_non_member_costs_one_smile_lookup_per_miss_window(
    api: InProcessApi, shop: Shop, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    shopper = shop.shopper(balance=None)
    assert _loyalty(api, shop, shopper.token)["state"] == "not_member"
    for _ in range(3):
        assert _loyalty(api, shop, shopper.token)["state"] == "not_member"
    assert len(_lookups(shop)) == 1
    note = Table(stack.resources.table_names["DataTable"]).get(
        email_pk(shop.merchant_id, shopper.email), LOOKUP_SK
    )
    assert note is not None and note["expires_at"] > clock.now().timestamp()
    # The shopper joins Smile; once the note is older than the miss window, the next view
    # looks again and finds them.
    shop.account.add_customer(shopper.email, state="member", points_balance=90)
    monkeypatch.setattr(freshness, "LOOKUP_MISS_SECONDS", 0)
    body = _loyalty(api, shop, shopper.token)
    assert body["state"] == "member" and body["points_balance"] == 90
    assert len(_lookups(shop)) == 2


def test_smile_down_during_a_lookup_serves_not_member_within_the_budget(
    api: InProcessApi, shop: Shop
) -> None:
    shopper = shop.shopper(balance=None)
    shop.account.faults.update({"down": True})
    try:
        started = clock.now()
        assert _loyalty(api, shop, shopper.token)["state"] == "not_member"
        assert (clock.now() - started).total_seconds() < 3.0
    finally:
        shop.account.faults.update({"down": False})
