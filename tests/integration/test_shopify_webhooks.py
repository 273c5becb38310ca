"""POST /v1/webhooks/shopify/{merchant_id}: signature, deduplication, topics, parsing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from customer_hub.infra.config import config
from customer_hub.infra.store import Table
from customer_hub.merchants.profiles import CreatedMerchant
from tests.support.api import InProcessApi, assert_problem
from tests.support.hub import launch, send_webhook

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / ".." / "shared" / "reference" / "shopify"
FIXTURES = ROOT / "tests" / "fixtures" / "shopify"
REAL_BODIES = sorted(REFERENCE.glob("orders-create-*.json"))


def _order(merchant: CreatedMerchant, order_id: Any) -> dict[str, Any] | None:
    return Table(config().events_table).get(
        f"MERCHANT#{merchant.merchant_id}#ORDER#{order_id}", "ORDER"
    )


@pytest.fixture
def live(api: InProcessApi, merchant: CreatedMerchant) -> CreatedMerchant:
    launch(api, merchant)
    return merchant


def test_the_real_bodies_are_there() -> None:
    assert len(REAL_BODIES) == 2


@pytest.mark.parametrize("path", REAL_BODIES, ids=lambda p: p.name)
def test_real_guest_orders_parse_as_sent(
    api: InProcessApi, live: CreatedMerchant, path: Path
) -> None:
    raw = path.read_bytes()
    reply = send_webhook(api, live, "orders/create", raw)
    assert reply.status == 200, reply.body
    assert reply.json == {"status": "accepted"}
    body = json.loads(raw)
    stored = _order(live, body["id"])
    assert stored is not None
    assert stored["kind"] == "order" and stored["merchant_id"] == live.merchant_id
    assert stored.get("customer_id") is None and stored["logged_in"] is False
    assert stored["created_at"].endswith("Z")
    assert stored["currency"] == "HKD"
    subtotal = round(float(body["subtotal_price_set"]["shop_money"]["amount"]) * 100)
    assert stored["subtotal"] == subtotal
    assert sum(line["amount"] for line in stored["lines"]) == subtotal
    assert stored["discount_codes"] == [c["code"] for c in body["discount_codes"]]


def test_a_logged_in_order_keeps_customer_lines_and_codes(
    api: InProcessApi, live: CreatedMerchant
) -> None:
    raw = (FIXTURES / "orders-create-logged-in-code-and-line-discount.json").read_bytes()
    assert send_webhook(api, live, "orders/create", raw).json == {"status": "accepted"}
    stored = _order(live, 6200407294300)
    assert stored is not None
    assert stored["customer_id"] == "7390123456789" and stored["logged_in"] is True
    assert stored["email"] == "mei.chan@example.com"
    assert stored["created_at"] == "2025-01-24T04:10:15Z"
    assert stored["discount_codes"] == ["0124D"]
    assert [(line["product_id"], line["amount"]) for line in stored["lines"]] == [
        ("9782123692332", 9900 - 1410 - 500),
        ("9797441945900", 10000 - 1500),
    ]
    assert (stored["subtotal"], stored["total"]) == (16490, 18690)


def test_shop_money_is_used_not_the_presentment_currency(
    api: InProcessApi, live: CreatedMerchant
) -> None:
    raw = (FIXTURES / "orders-create-logged-in-two-codes-presentment-usd.json").read_bytes()
    assert send_webhook(api, live, "orders/create", raw).status == 200
    stored = _order(live, 6200407294302)
    assert stored is not None
    assert stored["currency"] == "HKD" and stored["total"] == 18690
    assert stored["discount_codes"] == ["0124D", "HUB-REWARD-5"]


def test_a_disabled_account_is_not_a_logged_in_checkout(
    api: InProcessApi, live: CreatedMerchant
) -> None:
    raw = (FIXTURES / "orders-create-disabled-account-three-lines.json").read_bytes()
    assert send_webhook(api, live, "orders/create", raw).status == 200
    stored = _order(live, 6200407294301)
    assert stored is not None
    assert stored["logged_in"] is False and stored["customer_id"] == "7390123456790"
    assert [line["quantity"] for line in stored["lines"]] == [2, 1, 3]
    assert stored["lines"][2]["amount"] == 7650


def test_customers_create_records_an_account(api: InProcessApi, live: CreatedMerchant) -> None:
    raw = (FIXTURES / "customers-create.json").read_bytes()
    assert send_webhook(api, live, "customers/create", raw).json == {"status": "accepted"}
    stored = Table(config().events_table).get(
        f"MERCHANT#{live.merchant_id}#ACCOUNT#7390123456792", "ACCOUNT"
    )
    assert stored is not None and stored["kind"] == "account_created"
    assert stored["created_at"] == "2025-01-24T14:30:00Z"


def test_a_repeated_webhook_id_is_a_duplicate(api: InProcessApi, live: CreatedMerchant) -> None:
    raw = REAL_BODIES[0].read_bytes()
    first = send_webhook(api, live, "orders/create", raw, webhook_id="wh-1")
    again = send_webhook(api, live, "orders/create", raw, webhook_id="wh-1")
    assert first.json == {"status": "accepted"} and again.json == {"status": "duplicate"}
    other_id = send_webhook(api, live, "orders/create", raw, webhook_id="wh-2")
    assert other_id.json == {"status": "duplicate"}, "the same order under a new delivery id"


def test_a_bad_signature_is_401_and_stores_nothing(
    api: InProcessApi, live: CreatedMerchant
) -> None:
    raw = REAL_BODIES[1].read_bytes()
    reply = send_webhook(api, live, "orders/create", raw, secret="another-secret-entirely-000000")
    assert_problem(reply, 401, "unauthorized")
    tampered = send_webhook(api, live, "orders/create", raw)
    assert tampered.status == 200
    assert _order(live, json.loads(raw)["id"]) is not None


def test_the_signature_covers_the_exact_raw_bytes(api: InProcessApi, live: CreatedMerchant) -> None:
    raw = REAL_BODIES[1].read_bytes()
    reformatted = json.dumps(json.loads(raw)).encode()
    headers_signed_for = send_webhook(api, live, "orders/create", raw)
    assert headers_signed_for.status == 200
    # Signed over one serialization, sent as another: the bytes differ, so 401.
    from tests.support.hub import shopify_signature

    reply = api.post(
        f"/v1/webhooks/shopify/{live.merchant_id}",
        body=reformatted.replace(b'"id"', b'"id" ', 1),
        headers={
            "content-type": "application/json",
            "x-shopify-topic": "orders/create",
            "x-shopify-hmac-sha256": shopify_signature(reformatted, live.webhook_secret),
            "x-shopify-webhook-id": "wh-raw",
        },
    )
    assert_problem(reply, 401, "unauthorized")


def test_a_base64_encoded_body_is_verified_on_its_bytes(
    api: InProcessApi, live: CreatedMerchant
) -> None:
    raw = (FIXTURES / "orders-create-logged-in-code-and-line-discount.json").read_bytes()
    reply = send_webhook(api, live, "orders/create", raw, content_type="application/octet-stream")
    assert reply.status == 200 and reply.json == {"status": "accepted"}


def test_other_topics_are_acknowledged_and_ignored(
    api: InProcessApi, live: CreatedMerchant
) -> None:
    reply = send_webhook(api, live, "orders/paid", REAL_BODIES[0].read_bytes())
    assert reply.status == 200 and reply.json == {"status": "ignored"}
    assert _order(live, json.loads(REAL_BODIES[0].read_bytes())["id"]) is None


def test_while_not_live_webhooks_are_acknowledged_and_ignored(
    api: InProcessApi, merchant: CreatedMerchant
) -> None:
    raw = REAL_BODIES[0].read_bytes()
    reply = send_webhook(api, merchant, "orders/create", raw)
    assert reply.status == 200 and reply.json == {"status": "ignored"}
    assert _order(merchant, json.loads(raw)["id"]) is None
    bad = send_webhook(api, merchant, "orders/create", raw, secret="another-secret-entirely-000000")
    assert_problem(bad, 401, "unauthorized")
