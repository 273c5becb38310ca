"""Storefront request bodies (`Body()` models validated by Powertools) keep API.md's order and
shape: 404 unknown shop, 401 token and the idempotency key come before the body; no body stands
for `{}` where the route takes one; a body that is not a JSON object is a 422 at `body` (a
one-element array is not read as its element); base64 bodies are read; errors are located."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.support.api import InProcessApi, Reply, assert_problem
from tests.support.storefront import Shop

UNKNOWN_SHOP = "m_0000000000000000"
BAD = {"points_to_spend": "lots", "extra": 1}


def _locs(reply: Reply) -> list[list[Any]]:
    return [error["loc"] for error in reply.json["errors"]]


def _redeem(
    api: InProcessApi, path: str, token: str | None, body: bytes | None, key: str | None = "k"
) -> Reply:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["idempotency-key"] = f"{key}-{uuid.uuid4()}"
    return api.post(path, token=token, body=body, headers=headers)


def test_redeem_checks_shop_token_and_key_before_the_body(api: InProcessApi, shop: Shop) -> None:
    shopper = shop.shopper(balance=1000)
    bad = json.dumps(BAD).encode()
    path = shop.path("rewards/11/redeem")

    unknown = f"/v1/shops/{UNKNOWN_SHOP}/hub/rewards/11/redeem"
    assert_problem(_redeem(api, unknown, shopper.token, bad), 404, "not-found")
    assert_problem(_redeem(api, path, None, bad), 401, "unauthorized")
    assert_problem(_redeem(api, path, "not-a-token", bad), 401, "unauthorized")
    no_key = _redeem(api, path, shopper.token, bad, key=None)
    assert_problem(no_key, 422, "validation")
    assert _locs(no_key) == [["header", "Idempotency-Key"]]
    invalid = _redeem(api, path, shopper.token, bad)
    assert_problem(invalid, 422, "validation")
    assert sorted(map(str, _locs(invalid))) == ["['body', 'extra']", "['body', 'points_to_spend']"]
    assert not shop.purchases()


@pytest.mark.parametrize("body", [b"[{}]", b"[]", b"null", b'"{}"', b"7"])
def test_a_redeem_body_that_is_not_an_object_is_422_at_body(
    api: InProcessApi, shop: Shop, body: bytes
) -> None:
    shopper = shop.shopper(balance=1000)
    reply = _redeem(api, shop.path("rewards/11/redeem"), shopper.token, body)
    assert_problem(reply, 422, "validation")
    assert _locs(reply) == [["body"]]
    assert not shop.purchases()


@pytest.mark.parametrize("body", [None, b"", b"  \n", b"{}"])
def test_no_body_is_an_empty_object_for_a_fixed_reward(
    api: InProcessApi, shop: Shop, body: bytes | None
) -> None:
    shopper = shop.shopper(balance=1000)
    reply = _redeem(api, shop.path("rewards/11/redeem"), shopper.token, body)
    assert reply.status == 201, reply.body
    assert reply.headers["content-language"] == "en"


def test_a_base64_body_is_read(api: InProcessApi, shop: Shop) -> None:
    """API Gateway hands a body it does not take for text over base64-encoded."""
    shopper = shop.shopper(balance=1000)
    reply = api.post(
        shop.path("rewards/16/redeem"),
        token=shopper.token,
        body=json.dumps({"points_to_spend": 200}).encode(),
        headers={"content-type": "application/octet-stream", "idempotency-key": "b64"},
    )
    assert reply.status == 201, reply.body
    assert reply.json["points_balance"] == 800
    listed = api.post(
        shop.path("rewards/16/redeem"),
        token=shopper.token,
        body=b'[{"points_to_spend": 200}]',
        headers={"content-type": "application/octet-stream", "idempotency-key": "b64-list"},
    )
    assert_problem(listed, 422, "validation")


def test_session_checks_shop_and_a_sent_token_before_the_body(
    api: InProcessApi, shop: Shop
) -> None:
    bad = b'{"customer_id": "x"}'
    unknown = api.post(f"/v1/shops/{UNKNOWN_SHOP}/hub/session", body=bad)
    assert_problem(unknown, 404, "not-found")
    refused = api.post(shop.path("session"), token="not-a-token", body=bad)
    assert_problem(refused, 401, "unauthorized")
    nothing = api.post(shop.path("session"))
    assert_problem(nothing, 422, "validation")
    assert {loc[1] for loc in _locs(nothing)} >= {"customer_id", "email", "signature"}
    listed = api.post(shop.path("session"), body=b'[{"customer_id": "1"}]')
    assert_problem(listed, 422, "validation")
    assert _locs(listed) == [["body"]]


def test_events_check_merchant_and_token_before_the_body(api: InProcessApi, shop: Shop) -> None:
    shopper = shop.shopper(balance=10)
    bad = b'{"events": "none"}'
    unknown = api.post(f"/v1/shops/{UNKNOWN_SHOP}/hub/events", token=shopper.token, body=bad)
    assert_problem(unknown, 404, "not-found")
    assert_problem(api.post(shop.path("events"), body=bad), 401, "unauthorized")
    for body in (None, b"[]", b'[{"events": []}]', b"null"):
        reply = api.post(shop.path("events"), token=shopper.token, body=body)
        assert_problem(reply, 422, "validation")
        assert _locs(reply) == [["body"]], body
    invalid = api.post(shop.path("events"), token=shopper.token, body=bad)
    assert_problem(invalid, 422, "validation")
    assert _locs(invalid) == [["body", "events"]]
