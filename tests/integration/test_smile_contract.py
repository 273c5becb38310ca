"""Contract: every request the client sends and every response the stand-in returns is checked
against Smile's OpenAPI profile (`../shared/reference/smile-io-openapi.yml`) by openapi-core.

The exercise covers what the hub uses: a full sync (program, customers with vip_status,
reward fulfillments), a second incremental sync, lookups by id and email, fixed and variable
purchases and a refused one. `/referral_settings` and `/vip_settings` are the calls the profile
lacks (the notes say so of the first; docs/languages.md of the second); they are listed, not
silently skipped.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from customer_hub.smile import RetryPolicy, SmileClient, SmileUnprocessable
from customer_hub.smile.sync import Sync
from hubdev import smile_demo
from hubdev.smile_standin import LoggedRequest, SmileStandIn
from hubdev.stack import LocalStack
from tests.conftest import make_merchant

SPEC_FILE = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "smile-io-openapi.yml"
)
SERVER = "https://api.smile.io"  # the profile's server; paths keep their /v1 prefix
NOT_IN_PROFILE = {"/v1/referral_settings", "/v1/vip_settings"}


@pytest.fixture(scope="module")
def spec() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC_FILE))


@pytest.fixture(scope="module")
def exercised(stack: LocalStack) -> Iterator[tuple[list[httpx.Request], list[LoggedRequest]]]:
    """Drive the client through everything the hub does; keep both sides of every exchange."""
    sent: list[httpx.Request] = []
    with SmileStandIn(issue_after=0.01, record_bodies=True) as standin:
        api_key = f"sk_contract_{uuid.uuid4().hex}"
        account = standin.add_account(api_key, customers=300)
        merchant = make_merchant()
        with SmileClient(
            api_key,
            base_url=standin.url,
            retry=RetryPolicy(base_delay=0.01, max_delay=0.05),
            event_hooks={"request": [sent.append]},
        ) as smile:
            Sync(merchant.merchant_id, smile, page_size=120).run()
            (member,) = account.customer_by_email(smile_demo.RICH_MEMBER_EMAIL)
            smile.get_customer(member["id"])
            smile.find_customers_by_email(smile_demo.DUPLICATE_EMAIL)
            fixed = smile.purchase(12, member["id"])
            smile.purchase(16, member["id"], points_to_spend=300)
            (newcomer,) = account.customer_by_email(smile_demo.JOIN_EMAIL)
            with pytest.raises(SmileUnprocessable):
                smile.purchase(11, newcomer["id"])  # 0 points
            time.sleep(0.02)
            smile.get_reward_fulfillment(fixed.reward_fulfillment.id, member["id"])
            smile.list_reward_fulfillments(member["id"], updated_at_min="2026-01-01T00:00:00Z")
            smile.list_points_products(exchange_type="variable")
            smile.create_points_transaction(member["id"], 50, "Goodwill", internal_note="contract")
            Sync(merchant.merchant_id, smile, page_size=120).run()  # incremental
        yield sent, standin.requests()


def _mock_request(method: str, url: httpx.URL, headers: dict[str, str], body: bytes) -> MockRequest:
    return MockRequest(
        SERVER,
        method.lower(),
        url.path,
        args=dict(url.params),
        headers=headers,
        data=body or None,
        content_type=headers.get("content-type", "application/json"),
    )


def test_every_request_the_client_sends_matches_the_profile(
    spec: OpenAPI, exercised: tuple[list[httpx.Request], list[LoggedRequest]]
) -> None:
    sent, _ = exercised
    paths = {request.url.path for request in sent}
    assert {
        "/v1/customers",
        "/v1/reward_fulfillments",
        "/v1/points_products",
        "/v1/points_transactions",
    } <= paths
    assert any(p.endswith("/purchase") for p in paths) and any(
        p.startswith("/v1/customers/") for p in paths
    )
    checked = 0
    for request in sent:
        if request.url.path in NOT_IN_PROFILE:
            continue
        spec.validate_request(
            _mock_request(request.method, request.url, dict(request.headers), request.content)
        )
        checked += 1
    assert checked >= 20


def test_every_response_the_stand_in_returns_matches_the_profile(
    spec: OpenAPI, exercised: tuple[list[httpx.Request], list[LoggedRequest]]
) -> None:
    _, answered = exercised
    statuses = {r.status for r in answered}
    assert {200, 201, 422} <= statuses
    checked = 0
    for entry in answered:
        path = f"/v1{entry.path}"
        if path in NOT_IN_PROFILE or entry.status >= 400:
            continue  # Smile documents no error bodies; the client parses them defensively
        url = httpx.URL(f"{SERVER}{path}", params=entry.query)
        body = json.dumps(entry.body).encode() if entry.body is not None else b""
        headers = {**entry.headers, "authorization": "Bearer redacted-in-the-log"}
        request = _mock_request(entry.method, url, headers, body)
        response = MockResponse(json.dumps(entry.response).encode(), status_code=entry.status)
        spec.validate_response(request, response)
        checked += 1
    assert checked >= 20


def test_the_validator_does_catch_a_wrong_shape(spec: OpenAPI) -> None:
    """The checks above can fail: a customer id as a string is refused."""
    request = _mock_request(
        "GET", httpx.URL(f"{SERVER}/v1/customers/1"), {"authorization": "Bearer x"}, b""
    )
    wrong: dict[str, Any] = {"customer": {"id": "1", "state": "member"}}
    with pytest.raises(Exception, match="not valid"):
        spec.validate_response(request, MockResponse(json.dumps(wrong).encode()))
