"""Security matrix against a running `hub dev`: tokens, keys, webhooks, and no secret in logs.

Every route comes from template.yaml, so a route added later is attacked too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from hubdev.template import Template
from tests.support.devserver import hub_dev

ROUTES = Template().http_routes
MERCHANT_ROUTES = [r for r in ROUTES if r.authorizer == "MerchantApiKey"]
# CORS preflights (OPTIONS) carry no credentials by design: not part of the token matrix.
SHOP_ROUTES = [
    r for r in ROUTES if r.path.startswith("/v1/shops/{merchant_id}/hub/") and r.method != "OPTIONS"
]
OPTIONAL_AUTH = {("GET", "/v1/shops/{merchant_id}/hub/loyalty")}
# Authenticated by the theme's signature in its body: sent without one, the body is malformed.
SIGNED_BODY = {("POST", "/v1/shops/{merchant_id}/hub/session")}
WEBHOOK = "/v1/webhooks/shopify/{merchant_id}"
SECRETS_SEEN: list[str] = []


def _merchant(http: httpx.Client, name: str) -> dict[str, str]:
    created = http.post(
        "/_local/merchants",
        json={
            "name": name,
            "shop_domain": f"{name.lower()}.myshopify.com",
            "timezone": "Europe/Warsaw",
            "currency": "USD",
        },
    )
    assert created.status_code == 201, created.text
    merchant = created.json()
    SECRETS_SEEN.extend(merchant[k] for k in ("api_key", "customer_token_secret", "webhook_secret"))
    auth = {"Authorization": f"Bearer {merchant['api_key']}"}
    assert http.patch("/v1/admin/settings", headers=auth, json={"hub_status": "live"}).is_success
    return dict(merchant)


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, Any]]:
    with hub_dev() as ready:
        demo = ready.get("demo", {})
        SECRETS_SEEN.extend(
            str(v)
            for k, v in demo.items()
            if k in ("api_key", "customer_token_secret", "webhook_secret")
        )
        with httpx.Client(base_url=ready["url"], timeout=30) as http:
            ready["http"] = http
            ready["a"] = _merchant(http, "Alpha")
            ready["b"] = _merchant(http, "Bravo")
            yield ready
    logs = "".join(ready["logs"])
    ready["all_logs"] = logs


def _fill(path: str, merchant_id: str) -> str:
    path = path.replace("{merchant_id}", merchant_id)
    return re.sub(r"\{[^}]+\}", "1", path)


def _token(merchant: dict[str, str], **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": merchant["merchant_id"],
        "sub": "7001",
        "email": "shopper@example.com",
        "iat": now,
        "exp": now + 300,
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, merchant["customer_token_secret"], algorithm="HS256")


def _alg_none(merchant: dict[str, str]) -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    now = int(time.time())
    body = json.dumps(
        {
            "iss": merchant["merchant_id"],
            "sub": "7001",
            "email": "s@example.com",
            "iat": now,
            "exp": now + 60,
        }
    ).encode()
    return f"{header}.{base64.urlsafe_b64encode(body).rstrip(b'=').decode()}."


def _is_problem(response: httpx.Response, status: int) -> bool:
    return response.status_code == status and response.headers.get("content-type", "").startswith(
        "application/problem+json"
    )


def test_merchant_routes_refuse_missing_and_forged_keys(
    running: dict[str, Any], figures: Counter[str]
) -> None:
    http: httpx.Client = running["http"]
    for route in MERCHANT_ROUTES:
        path = _fill(route.path, running["a"]["merchant_id"])
        for headers in (
            {},
            {"Authorization": "Bearer chk_forged"},
            {"Authorization": "Basic eA=="},
        ):
            response = http.request(route.method, path, headers=headers, json={})
            figures["merchant key attacks"] += 1
            assert _is_problem(response, 401), (route.method, path, response.status_code)


def test_another_merchants_key_never_reveals_this_merchants_data(
    running: dict[str, Any], figures: Counter[str]
) -> None:
    http: httpx.Client = running["http"]
    a, b = running["a"], running["b"]
    for route in MERCHANT_ROUTES:
        if route.method != "GET":
            continue
        response = http.get(
            _fill(route.path, a["merchant_id"]), headers={"Authorization": f"Bearer {b['api_key']}"}
        )
        figures["cross-merchant key reads"] += 1
        assert response.status_code < 500, (route.path, response.text)
        assert a["merchant_id"] not in response.text, route.path
        assert "Alpha" not in response.text, route.path


def test_customer_token_matrix(running: dict[str, Any], figures: Counter[str]) -> None:
    http: httpx.Client = running["http"]
    a, b = running["a"], running["b"]
    now = int(time.time())
    bad_tokens = {
        "forged": jwt.encode(
            {
                "iss": a["merchant_id"],
                "sub": "7001",
                "email": "s@example.com",
                "iat": now,
                "exp": now + 60,
            },
            "not-the-secret",
            algorithm="HS256",
        ),
        "expired": _token(a, iat=now - 7200, exp=now - 3600),
        "too long": _token(a, exp=now + 7200),
        "alg none": _alg_none(a),
        "other merchant": _token(b),
        "no sub": _token(a, sub=None),
        "no email": _token(a, email=None),
        "garbage": "not.a.jwt",
    }
    for route in SHOP_ROUTES:
        path = _fill(route.path, a["merchant_id"])
        for name, token in bad_tokens.items():
            response = http.request(
                route.method,
                path,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
                json={},
            )
            figures["customer token attacks"] += 1
            assert _is_problem(response, 401), (name, route.method, path, response.status_code)
        if (route.method, route.path) in SIGNED_BODY:
            response = http.request(route.method, path, json={})
            assert _is_problem(response, 422), ("missing", route.method, path)
        elif (route.method, route.path) not in OPTIONAL_AUTH:
            response = http.request(route.method, path, json={})
            figures["customer token attacks"] += 1
            assert _is_problem(response, 401), ("missing", route.method, path)


@pytest.mark.skipif(not any(r.path == WEBHOOK for r in ROUTES), reason="no webhook route yet")
def test_forged_and_replayed_webhooks(running: dict[str, Any], figures: Counter[str]) -> None:
    http: httpx.Client = running["http"]
    a = running["a"]
    body = json.dumps(
        {
            "id": 991,
            "email": "x@example.com",
            "state": "enabled",
            "created_at": "2026-11-23T09:00:00-05:00",
        }
    ).encode()
    path = WEBHOOK.replace("{merchant_id}", a["merchant_id"])
    good = base64.b64encode(hmac.new(a["webhook_secret"].encode(), body, hashlib.sha256).digest())
    forged = base64.b64encode(hmac.new(b"guess", body, hashlib.sha256).digest())
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "customers/create",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Shop-Domain": "alpha.myshopify.com",
    }
    for signature in (forged.decode(), "", good.decode()[:-4] + "AAAA"):
        response = http.post(
            path, content=body, headers={**headers, "X-Shopify-Hmac-Sha256": signature}
        )
        figures["forged webhooks"] += 1
        assert _is_problem(response, 401), response.text
    signed = {**headers, "X-Shopify-Hmac-Sha256": good.decode()}
    assert http.post(path, content=body, headers=signed).json()["status"] == "accepted"
    replay = http.post(path, content=body, headers=signed)
    figures["replayed webhooks"] += 1
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    other = running["b"]
    cross = http.post(
        WEBHOOK.replace("{merchant_id}", other["merchant_id"]), content=body, headers=signed
    )
    figures["forged webhooks"] += 1
    assert _is_problem(cross, 401), "merchant A's signature is worthless on merchant B"


def test_zz_no_secret_in_any_log_line(running: dict[str, Any], figures: Counter[str]) -> None:
    """Runs last in this module: every log line `hub dev` printed during the attacks."""
    logs = "".join(running["logs"])
    figures["log lines scanned"] += logs.count("\n")
    leaks = [s[:6] + "…" for s in SECRETS_SEEN if s and s in logs]
    figures["secrets leaked to logs"] += len(leaks)
    assert not leaks
