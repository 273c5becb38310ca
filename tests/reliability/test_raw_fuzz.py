"""Raw-byte and mutation fuzzing of every route, beyond what the OpenAPI document describes.

Hypothesis builds requests from a valid one per route of the template (as the demo merchant and
a logged-in shopper) and breaks them: arbitrary bytes as the body, mutated valid bodies (bytes
flipped, inserted, cut; values swapped for any JSON; nesting deeper than 32; over 64 KiB), odd
text in path parameters, query strings and headers, any Content-Type. Webhook bodies are signed
after mutation half of the time, so the route's parsing is reached past its HMAC check.
Requests go through the local stack's API Gateway emulation, authorizer and real handlers, in
process. No answer may be a 5xx; every error is problem+json.
"""

from __future__ import annotations

import base64
import json
import os
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_hub.edge.request_checks import MAX_BODY_BYTES, MAX_JSON_DEPTH
from customer_hub.infra.config import config
from hubdev.smile_standin import SmileStandIn
from hubdev.stack import LocalStack
from hubdev.template import ROOT, HttpRoute
from tests.conftest import make_merchant
from tests.support.api import InProcessApi, Reply, assert_problem
from tests.support.hub import launch, shopify_signature
from tests.support.storefront import Shop, connect_shop

CASES = int(os.environ.get("RAW_FUZZ_CASES", "1500"))
PARAMETERS = {"points_product_id": "11", "coupon_id": "1", "name": "api_key"}


@dataclass
class Target:
    shop: Shop
    token: str


@pytest.fixture(scope="module")
def target(stack: LocalStack, smile_standin: SmileStandIn) -> Iterator[Target]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMILE_API_BASE_URL", smile_standin.url)
        config.cache_clear()
        api_key = f"sk_test_{uuid.uuid4().hex}"
        smile_standin.add_account(api_key)
        shop = connect_shop(make_merchant(), smile_standin, api_key)
        launch(InProcessApi(stack), shop.merchant)
        shopper = shop.shopper(balance=100_000)
        yield Target(shop, shopper.token)
    config.cache_clear()


def _routes(stack: LocalStack) -> list[HttpRoute]:
    # Rotating the API key would lock the fuzzer out after its overlap; the route is fuzzed
    # with an unknown name (422) instead, and `customer_token_secret` left alone likewise.
    return [r for r in stack.routes if r.method != "OPTIONS"]


def _valid_body(route: HttpRoute) -> Any:
    if route.path.endswith("/events"):
        return {
            "events": [
                {
                    "id": str(uuid.uuid4()),
                    "type": "hub_opened",
                    "occurred_at": "2026-01-01T00:00:00Z",
                }
            ]
        }
    if route.method == "PATCH":
        return {"cart_window_hours": 48}
    if route.path.endswith("/smile/connection") and route.method == "PUT":
        return {"api_key": "sk_unknown"}
    if route.path.endswith("/redeem"):
        return {}
    if "webhooks" in route.path:
        return {"id": 1, "email": "a@example.com", "line_items": [], "total_price": "1.00"}
    return None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
odd_text = st.text(max_size=40) | st.binary(max_size=40).map(lambda b: b.decode("latin-1"))


def _mutate(data: st.DataObject, raw: bytes) -> bytes:
    kind = data.draw(
        st.sampled_from(
            ["bytes", "flip", "insert", "cut", "value", "deep", "huge", "empty", "json"]
        ),
        label="mutation",
    )
    if kind == "bytes":
        return data.draw(st.binary(max_size=300))
    if kind == "flip" and raw:
        at = data.draw(st.integers(0, len(raw) - 1))
        return raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1 :]
    if kind == "insert":
        at = data.draw(st.integers(0, len(raw)))
        return raw[:at] + data.draw(st.binary(min_size=1, max_size=20)) + raw[at:]
    if kind == "cut" and raw:
        return raw[: data.draw(st.integers(0, len(raw) - 1))]
    if kind == "value":
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = {}
        if isinstance(parsed, dict):
            keys = [*parsed, "extra"]
            parsed[data.draw(st.sampled_from(keys))] = data.draw(json_values)
        return json.dumps(parsed).encode()
    if kind == "deep":
        depth = data.draw(st.integers(MAX_JSON_DEPTH - 1, 5000))
        return b"[" * depth + b"1" + b"]" * depth
    if kind == "huge":
        return b'{"pad": "' + b"x" * (MAX_BODY_BYTES + data.draw(st.integers(0, 100))) + b'"}'
    if kind == "json":
        return json.dumps(data.draw(json_values)).encode()
    return b""


def _request(
    data: st.DataObject, route: HttpRoute, target: Target
) -> tuple[str, str, str, dict[str, str], bytes | None]:
    values = {"merchant_id": target.shop.merchant_id, **PARAMETERS}
    if "rotate" in route.path:
        values["name"] = "password"
    path_mode = data.draw(st.sampled_from(["valid", "odd", "merchant"]), label="path")
    path = route.path
    for name in set(route.pattern.groupindex):
        value = values.get(name, "1")
        if path_mode == "odd" or (path_mode == "merchant" and name == "merchant_id"):
            value = quote(data.draw(odd_text), safe="") or "x"
        path = path.replace("{" + name + "}", value).replace("{" + name + "+}", value)
    headers: dict[str, str] = {}
    if route.authorizer:
        headers["authorization"] = f"Bearer {target.shop.merchant.api_key}"
    elif "/shops/" in route.path:
        headers["authorization"] = f"Bearer {target.token}"
    if route.path.endswith("/redeem"):
        headers["idempotency-key"] = str(uuid.uuid4())
    valid = _valid_body(route)
    raw = json.dumps(valid).encode() if valid is not None else b""
    if data.draw(st.booleans(), label="mutate body"):
        raw = _mutate(data, raw)
    if "webhooks" in route.path:
        headers["x-shopify-topic"] = data.draw(
            st.sampled_from(["orders/create", "customers/create", "app/uninstalled"])
        )
        headers["x-shopify-webhook-id"] = str(uuid.uuid4())
        secret = target.shop.merchant.webhook_secret
        if data.draw(st.booleans(), label="signed"):
            headers["x-shopify-hmac-sha256"] = shopify_signature(raw, secret)
    headers["content-type"] = data.draw(
        st.sampled_from(
            [
                "application/json",
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "application/json; charset=latin-1",
                "",
            ]
        )
        | odd_text,
        label="content-type",
    )
    for _ in range(data.draw(st.integers(0, 3), label="odd headers")):
        name = data.draw(
            st.sampled_from(
                [
                    "authorization",
                    "accept-language",
                    "origin",
                    "idempotency-key",
                    "x-odd",
                    "x-shopify-hmac-sha256",
                    "cookie",
                ]
            )
        )
        headers[name] = data.draw(odd_text)
    query = ""
    if data.draw(st.booleans(), label="odd query"):
        query = data.draw(
            st.binary(max_size=60).map(lambda b: b.decode("latin-1"))
            | st.lists(st.tuples(odd_text, odd_text), max_size=4).map(
                lambda pairs: "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
            )
            | st.sampled_from(
                [
                    "cursor=%ff%fe",
                    "cursor=!!!",
                    "period=custom&start=x",
                    "days=-1",
                    "cursor=eyJhZnRlciI6IDF9",
                    "%zz=%",
                    "days=1e9",
                ]
            )
        )
    return route.method, path, query, headers, raw or None


def _assert_no_server_error(reply: Reply, what: str) -> None:
    assert reply.status < 500, (what, reply.status, reply.body[:300])
    if reply.status >= 400 and reply.body:
        if reply.content_type.startswith("application/problem+json"):
            body = reply.json
            assert body["status"] == reply.status, body
        else:  # API Gateway's own answers (no route: 404 {"message": ...})
            assert reply.status in (403, 404), (what, reply.status, reply.body[:300])


def test_raw_and_mutated_requests_never_get_a_5xx(
    stack: LocalStack, target: Target, figures: Counter[str]
) -> None:
    routes = _routes(stack)
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=CASES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def one_request(data: st.DataObject) -> None:
        route = data.draw(st.sampled_from(routes), label="route")
        method, path, query, headers, body = _request(data, route, target)
        status, response_headers, payload = stack.handle_http(method, path, query, headers, body)
        reply = Reply(status, response_headers, payload)
        statuses[status] += 1
        _assert_no_server_error(reply, f"{method} {path}?{query}")

    one_request()
    total = sum(statuses.values())
    assert total >= CASES
    assert {413, 422, 404, 401} <= set(statuses), statuses
    figures["fuzz raw/mutation cases (in process, every route)"] += total
    for status, n in sorted(statuses.items()):
        figures[f"fuzz raw/mutation {status // 100}xx"] += n


def test_bodies_over_64_kib_and_deep_nesting_are_clear_problems(
    api: InProcessApi, target: Target
) -> None:
    shop = target.shop
    events = shop.path("events")
    huge = b'{"events": "' + b"x" * MAX_BODY_BYTES + b'"}'
    assert_problem(api.post(events, body=huge, token=target.token), 413, "payload-too-large")
    deep = b"[" * 20_000 + b"]" * 20_000
    assert_problem(api.post(events, body=deep, token=target.token), 422, "validation")
    at_limit = b'{"events": ' + b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1) + b"}"
    reply = api.post(events, body=at_limit, token=target.token)
    assert_problem(reply, 422, "validation")
    assert "deeper" not in reply.json["detail"]
    for body in (b"not json", b"{", b"\xff\xfe", b'{"events": NaN'):
        assert_problem(api.post(events, body=body, token=target.token), 422, "validation")
    key = shop.merchant.api_key
    assert_problem(api.patch("/v1/admin/settings", body=b"{oops", api_key=key), 422, "validation")
    assert_problem(
        api.patch("/v1/admin/settings", body=huge, api_key=key), 413, "payload-too-large"
    )


@pytest.mark.parametrize(
    "merchant_id", ["m_0123456789ABCDEF", "m_0123", "x" * 300, "m_0123456789abcdeg", "%00"]
)
def test_a_malformed_merchant_id_is_404_without_a_lookup(
    api: InProcessApi, stack: LocalStack, merchant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from customer_hub.merchants import profiles as merchants

    looked_up: list[str] = []
    monkeypatch.setattr(merchants, "find_merchant", lambda m: looked_up.append(m))
    for path in (f"/v1/shops/{merchant_id}/hub/loyalty", f"/v1/webhooks/shopify/{merchant_id}"):
        method = "GET" if path.endswith("loyalty") else "POST"
        reply = api.request(method, path, body=b"{}" if method == "POST" else None)
        assert_problem(reply, 404, "not-found")
    assert looked_up == []


def test_a_base64_body_reaches_the_webhook_as_the_bytes_shopify_signed(
    stack: LocalStack, target: Target
) -> None:
    """API Gateway hands non-text content types over base64-encoded; the HMAC is over the
    decoded bytes, and bytes that are not base64 are a 422, never a 500."""
    from hubdev import events

    shop = target.shop
    raw = (ROOT / "tests/fixtures/shopify/customers-create.json").read_bytes()
    raw = raw.replace(b'"first_name": "', '"first_name": "Zoë '.encode())  # not ASCII
    path = f"/v1/webhooks/shopify/{shop.merchant_id}"
    headers = {
        "content-type": "application/octet-stream",
        "x-shopify-topic": "customers/create",
        "x-shopify-webhook-id": str(uuid.uuid4()),
        "x-shopify-hmac-sha256": shopify_signature(raw, shop.merchant.webhook_secret),
        "x-shopify-shop-domain": shop.shop_domain,
    }
    route_path = "/v1/webhooks/shopify/{merchant_id}"
    params = {"merchant_id": shop.merchant_id}
    event = events.http_event(
        "POST", path, route_path=route_path, path_parameters=params, headers=headers, body=raw
    )
    assert event["isBase64Encoded"]
    function = next(r.function for r in stack.routes if r.path == route_path)
    response = stack.runtime.invoke(function, event)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["status"] in ("accepted", "duplicate")
    event["body"] = "%%% not base64 %%%"
    response = stack.runtime.invoke(function, event)
    assert response["statusCode"] == 422, response


def test_random_tokens_and_keys_of_any_bytes_are_401(api: InProcessApi, target: Target) -> None:
    rng = random.Random(3)
    for _ in range(50):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80))).decode("latin-1")
        reply = api.get("/v1/admin/settings", headers={"authorization": f"Bearer {junk}"})
        assert_problem(reply, 401, "unauthorized")
        reply = api.get(target.shop.path("rewards"), headers={"authorization": f"Bearer {junk}"})
        assert_problem(reply, 401, "unauthorized")


@pytest.mark.parametrize(
    "cursor",
    [
        base64.urlsafe_b64encode(b"[" * 5000).decode(),
        base64.urlsafe_b64encode(b'{"after": ' + b"[" * 3000 + b"]" * 3000 + b"}").decode(),
        "eyJhZnRlciI6IDF9",  # {"after": 1}
        "%ff%fe",
        "x" * 5000,
        "====",
        base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    ],
)
@pytest.mark.parametrize("route", ["revenue-report", "inactive-accounts"])
def test_odd_dashboard_cursors_are_422(
    api: InProcessApi, target: Target, cursor: str, route: str
) -> None:
    reply = api.get(
        f"/v1/dashboard/{route}",
        query={"cursor": cursor},
        api_key=target.shop.merchant.api_key,
    )
    assert_problem(reply, 422, "validation")
