"""POST /v1/shops/{merchant_id}/hub/events: the contract of API.md and SPEC §5."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from customer_hub.infra import clock
from customer_hub.infra.config import config
from customer_hub.infra.store import Table
from customer_hub.merchants.profiles import CreatedMerchant
from customer_hub.metrics.hub_events import event_pk
from tests.support.api import InProcessApi, assert_problem
from tests.support.hub import customer_token, launch, post_events


def _event(
    kind: str = "hub_opened", *, ago: timedelta = timedelta(minutes=1), **extra: Any
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "occurred_at": clock.iso(datetime.now(UTC) - ago),
        **extra,
    }


def _stored(merchant: CreatedMerchant, event_id: str) -> dict[str, Any] | None:
    return Table(config().events_table).get(event_pk(merchant.merchant_id, event_id), "EVENT")


@pytest.fixture
def live(api: InProcessApi, merchant: CreatedMerchant) -> CreatedMerchant:
    launch(api, merchant)
    return merchant


def test_a_batch_is_stored_with_the_shopper_from_the_token(
    api: InProcessApi, live: CreatedMerchant
) -> None:
    events = [
        _event("hub_opened"),
        _event("product_clicked", product_id="9782123692332"),
        _event("coupon_applied", coupon_code="HUB-10"),
        _event("order_tracked", order_id="5001"),
    ]
    reply = post_events(api, live, events, customer_id="4242", email="Ann@Example.com")
    assert reply.status == 202, reply.body
    assert reply.json == {"accepted": 4, "duplicates": 0}
    stored = _stored(live, events[1]["id"])
    assert stored is not None
    assert stored["kind"] == "hub_event" and stored["customer_id"] == "4242"
    assert stored["product_id"] == "9782123692332" and stored["type"] == "product_clicked"
    assert _stored(live, events[2]["id"])["coupon_code"] == "HUB-10"  # type: ignore[index]


def test_a_retried_batch_counts_once(api: InProcessApi, live: CreatedMerchant) -> None:
    events = [_event(), _event("help_clicked")]
    assert post_events(api, live, events).json == {"accepted": 2, "duplicates": 0}
    again = post_events(api, live, [*events, _event("chat_started")])
    assert again.status == 202
    assert again.json == {"accepted": 1, "duplicates": 2}


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "page_viewed"},
        {"type": "product_clicked"},
        {"type": "buy_again_clicked", "product_id": ""},
        {"occurred_at": "2026-11-23T10:00:00"},
        {"unexpected": 1},
    ],
)
def test_an_invalid_event_refuses_the_whole_batch(
    api: InProcessApi, live: CreatedMerchant, bad: dict[str, Any]
) -> None:
    good = _event()
    reply = post_events(api, live, [good, {**_event(), **bad}])
    assert_problem(reply, 422, "validation")
    assert _stored(live, good["id"]) is None


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(minutes=-4, seconds=-50), True),
        (timedelta(minutes=-5, seconds=-30), False),
        (timedelta(days=6, hours=23), True),
        (timedelta(days=7, minutes=1), False),
    ],
)
def test_the_time_window_is_5_minutes_ahead_and_7_days_back(
    api: InProcessApi, live: CreatedMerchant, offset: timedelta, accepted: bool
) -> None:
    reply = post_events(api, live, [_event(), _event(ago=offset)])
    if accepted:
        assert reply.status == 202, reply.body
    else:
        assert_problem(reply, 422, "validation")


def test_batch_size_is_1_to_25(api: InProcessApi, live: CreatedMerchant) -> None:
    assert_problem(post_events(api, live, []), 422, "validation")
    assert_problem(post_events(api, live, [_event() for _ in range(26)]), 422, "validation")
    assert post_events(api, live, [_event() for _ in range(25)]).json["accepted"] == 25


def test_a_hub_that_is_not_live_refuses_events_and_stores_nothing(
    api: InProcessApi, merchant: CreatedMerchant
) -> None:
    event = _event()
    assert_problem(post_events(api, merchant, [event]), 409, "hub-not-live")
    launch(api, merchant)
    launch(api, merchant, "disabled")
    assert_problem(post_events(api, merchant, [event]), 409, "hub-not-live")
    assert _stored(merchant, event["id"]) is None


@pytest.mark.parametrize(
    "token_kind",
    ["missing", "wrong-key", "expired", "other-merchant", "too-long", "no-email", "alg-none"],
)
def test_the_customer_token_is_required_and_checked(
    api: InProcessApi, live: CreatedMerchant, token_kind: str
) -> None:
    tokens: dict[str, str | None] = {
        "missing": None,
        "wrong-key": customer_token(live, secret="not-the-secret-of-this-merchant-at-all"),
        "expired": customer_token(live, iat=1_700_000_000, exp=1_700_000_600),
        "other-merchant": customer_token(live, iss="m_someoneelse"),
        "too-long": customer_token(live, lifetime=7200),
        "no-email": customer_token(live, email=""),
        "alg-none": "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    }
    event = _event()
    reply = api.post(
        f"/v1/shops/{live.merchant_id}/hub/events",
        json_body={"events": [event]},
        token=tokens[token_kind],
    )
    assert_problem(reply, 401, "unauthorized")
    assert _stored(live, event["id"]) is None


def test_an_unknown_merchant_is_404(api: InProcessApi, live: CreatedMerchant) -> None:
    reply = api.post(
        "/v1/shops/m_0000000000000000/hub/events",
        json_body={"events": [_event()]},
        token=customer_token(live),
    )
    assert_problem(reply, 404, "not-found")


def test_answers_carry_cors_headers_for_the_shop_origin_only(
    api: InProcessApi, live: CreatedMerchant
) -> None:
    from customer_hub.merchants.profiles import get_merchant

    shop = f"https://{get_merchant(live.merchant_id).shop_domain}"
    path = f"/v1/shops/{live.merchant_id}/hub/events"
    token = customer_token(live)
    accepted = api.post(
        path, json_body={"events": [_event()]}, token=token, headers={"Origin": shop}
    )
    assert accepted.status == 202
    assert accepted.headers.get("access-control-allow-origin") == shop
    refused = api.post(path, json_body={"events": []}, token=token, headers={"Origin": shop})
    assert refused.status == 422
    assert refused.headers.get("access-control-allow-origin") == shop, "errors too"
    elsewhere = api.post(
        path,
        json_body={"events": [_event()]},
        token=token,
        headers={"Origin": "https://evil.example"},
    )
    assert "access-control-allow-origin" not in elsewhere.headers
