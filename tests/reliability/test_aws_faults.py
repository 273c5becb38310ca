"""Secrets Manager and SQS faults (throttled, internal error, lost) on every route that reads a
secret or enqueues, and in the sync worker: a retryable 503 `temporarily-unavailable` with
`Retry-After` — never a 401, a `smile-not-connected` or a 500 — and the same request succeeds
once the service is back. The worker fails the record (SQS retries it) instead of recording
the merchant as disconnected.

Each request starts with an empty secrets cache, as a cold container does (a warm one serves
cached secrets and does not meet the fault).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from customer_hub.infra import secrets
from customer_hub.smile import sync
from hubdev import events
from hubdev.stack import LocalStack
from tests.support.api import InProcessApi, Reply, assert_problem
from tests.support.aws_faults import KINDS, AwsFaults, Kind
from tests.support.hub import launch, shopify_signature
from tests.support.storefront import Shop

Request = Callable[[], Reply]


@pytest.fixture
def faults() -> Iterator[AwsFaults]:
    with AwsFaults().installed() as installed:
        yield installed


def _busy(reply: Reply) -> None:
    assert_problem(reply, 503, "temporarily-unavailable")
    assert reply.headers.get("retry-after") == "1"
    assert b"Traceback" not in reply.body and b"botocore" not in reply.body


def _secret_routes(api: InProcessApi, shop: Shop) -> dict[str, tuple[Request, int]]:
    shopper = shop.shopper()
    webhook = json.dumps({"id": 5, "email": "w@example.com"}).encode()

    def signed_webhook() -> Reply:
        headers = {
            "content-type": "application/json",
            "x-shopify-topic": "app/uninstalled",
            "x-shopify-webhook-id": str(uuid.uuid4()),
            "x-shopify-hmac-sha256": shopify_signature(webhook, shop.merchant.webhook_secret),
            "x-shopify-shop-domain": shop.shop_domain,
        }
        return api.post(f"/v1/webhooks/shopify/{shop.merchant_id}", body=webhook, headers=headers)

    event = {"id": "", "type": "hub_opened", "occurred_at": ""}

    def post_events() -> Reply:
        from customer_hub.infra import clock

        batch = [{**event, "id": str(uuid.uuid4()), "occurred_at": clock.iso(clock.now())}]
        return api.post(shop.path("events"), json_body={"events": batch}, token=shopper.token)

    key = shop.merchant.api_key
    return {
        "GET /loyalty (token)": (lambda: api.get(shop.path("loyalty"), token=shopper.token), 200),
        "GET /rewards (token, Smile key)": (
            lambda: api.get(shop.path("rewards"), token=shopper.token),
            200,
        ),
        "GET /coupons (token)": (lambda: api.get(shop.path("coupons"), token=shopper.token), 200),
        "POST /events (token)": (post_events, 202),
        "POST /webhooks/shopify (webhook secret)": (signed_webhook, 200),
        "PUT /admin/smile/connection (stores the key)": (
            lambda: api.put(
                "/v1/admin/smile/connection", json_body={"api_key": shop.api_key}, api_key=key
            ),
            200,
        ),
    }


@pytest.mark.parametrize("kind", KINDS)
def test_secrets_manager_faults_are_503_on_every_route_that_reads_a_secret(
    api: InProcessApi, shop: Shop, faults: AwsFaults, kind: Kind, figures: Counter[str]
) -> None:
    launch(api, shop.merchant)
    routes = _secret_routes(api, shop)
    for name, (request, ok) in routes.items():
        secrets.forget_secrets()
        with faults.failing("secretsmanager", kind):
            reply = request()
        assert reply.status == 503, (name, kind, reply.status, reply.body[:300])
        _busy(reply)
        secrets.forget_secrets()
        assert request().status == ok, name  # the service is back: nothing was cached
        figures[f"secrets manager faults: route answers 503 + Retry-After ({kind})"] += 1
    assert faults.injected[f"secretsmanager: {kind}"] >= len(routes)
    figures[f"faults injected: Secrets Manager {kind}"] += faults.injected[
        f"secretsmanager: {kind}"
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_sqs_faults_on_a_sync_request_are_503(
    api: InProcessApi, shop: Shop, faults: AwsFaults, kind: Kind, figures: Counter[str]
) -> None:
    key = shop.merchant.api_key
    connect = {"api_key": shop.api_key}
    assert api.put("/v1/admin/smile/connection", json_body=connect, api_key=key).status == 200
    with faults.failing("sqs", kind):
        reply = api.post("/v1/admin/smile/sync", api_key=shop.merchant.api_key)
    _busy(reply)
    assert api.post("/v1/admin/smile/sync", api_key=shop.merchant.api_key).status == 202
    assert faults.injected[f"sqs: {kind}"] >= 1
    figures[f"faults injected: SQS {kind}"] += faults.injected[f"sqs: {kind}"]
    figures[f"sqs faults: POST /admin/smile/sync answers 503 + Retry-After ({kind})"] += 1


@pytest.mark.parametrize("kind", KINDS)
def test_the_sync_worker_retries_a_job_when_secrets_manager_fails(
    stack: LocalStack, shop: Shop, faults: AwsFaults, kind: Kind, figures: Counter[str]
) -> None:
    worker = "SmileSyncWorkerFunction"
    body = json.dumps({"merchant_id": shop.merchant_id, "reason": "manual"})
    message = {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": "r",
        "Body": body,
        "Attributes": {"MessageGroupId": shop.merchant_id},
    }
    arn = stack.resources.queue_arns["SmileSyncQueue"]
    secrets.forget_secrets()
    # The whole batch (one job) failed: Powertools raises, Lambda reports the invocation
    # failed and SQS delivers the message again later (then its dead-letter queue).
    with faults.failing("secretsmanager", kind), pytest.raises(BatchProcessingError) as failed:
        stack.runtime.invoke(worker, events.sqs_event(arn, [message]))
    assert "ServiceBusy" in str(failed.value) or "cannot read its secrets" in str(failed.value)
    assert sync.load_state(shop.merchant_id).status != "failed"
    secrets.forget_secrets()
    response = stack.runtime.invoke(worker, events.sqs_event(arn, [message]))
    assert not response.get("batchItemFailures"), response
    figures[f"faults injected: Secrets Manager {kind}"] += faults.injected[
        f"secretsmanager: {kind}"
    ]
    figures[f"secrets manager faults: sync jobs retried, not failed ({kind})"] += 1
