"""A hub installed on a real Shopify store (SPEC §9), over real HTTP against `hub dev`:
the theme-signed session, the store's own domains, webhooks as Shopify signs them, the hub
status on the storefront."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.support.devserver import hub_dev

ROOT = Path(__file__).resolve().parents[2]
REAL_ORDERS = sorted(
    (ROOT / ".." / "shared" / "reference" / "shopify").glob("orders-create-*.json")
)
CUSTOMER = json.loads(
    (ROOT / "tests" / "fixtures" / "shopify" / "customers-create.json").read_text()
)
SETTINGS = "/v1/admin/settings"


@pytest.fixture(scope="module")
def ready() -> Iterator[dict[str, Any]]:
    with hub_dev() as started:
        yield started


@pytest.fixture(scope="module")
def http(ready: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ready["url"], timeout=30) as client:
        yield client


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"https://customer-hub.dev/problems/{slug}"
    return dict(body)


def _new_merchant(http: httpx.Client, **extra: str) -> dict[str, Any]:
    domain = f"shop-{uuid.uuid4().hex[:8]}.myshopify.com"
    body = {"name": "Brand", "shop_domain": domain, "timezone": "UTC", "currency": "USD", **extra}
    created = http.post("/_local/merchants", json=body)
    assert created.status_code == 201, created.text
    return {**created.json(), "shop_domain": domain}


def _auth(merchant: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {merchant['api_key']}"}


def _patch(http: httpx.Client, merchant: dict[str, Any], **fields: Any) -> httpx.Response:
    return http.patch(SETTINGS, headers=_auth(merchant), json=fields)


# ---------------------------------------------------------------- 1. Liquid-signed session
def _session_body(
    merchant_id: str,
    secret: str,
    customer_id: str,
    email: str,
    issued_at: int | None = None,
) -> dict[str, Any]:
    issued = int(time.time()) if issued_at is None else issued_at
    message = f"customer-hub-session:v1:{merchant_id}:{customer_id}:{issued}:{email}"
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {"customer_id": customer_id, "email": email, "issued_at": issued, "signature": signature}


def _member(http: httpx.Client) -> dict[str, Any]:
    listed = http.get("/_local/demo/shoppers").json()["shoppers"]
    return next(s for s in listed if s["state"] == "member")


def test_a_theme_signed_member_gets_a_token_that_shows_their_balance(
    http: httpx.Client, ready: dict[str, Any]
) -> None:
    demo = ready["demo"]
    member = _member(http)
    path = f"/v1/shops/{demo['merchant_id']}/hub/session"
    origin = "https://demo-outfitters.myshopify.com"
    body = _session_body(
        demo["merchant_id"], demo["customer_token_secret"], member["customer_id"], member["email"]
    )
    answer = http.post(path, json=body, headers={"Origin": origin})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["access-control-allow-origin"] == origin
    token = answer.json()["customer_token"]
    claims = jwt.decode(token, demo["customer_token_secret"], algorithms=["HS256"])
    assert claims["iss"] == demo["merchant_id"] and claims["sub"] == member["customer_id"]
    assert claims["email"] == member["email"] and 0 < claims["exp"] - claims["iat"] <= 3600
    expires = answer.json()["expires_at"]
    assert expires.endswith("Z") and expires[:19] == time.strftime(
        "%Y-%m-%dT%H:%M:%S", time.gmtime(claims["exp"])
    )

    loyalty = http.get(
        f"/v1/shops/{demo['merchant_id']}/hub/loyalty",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    minted = http.post("/_local/demo/token", json={"email": member["email"]}).json()["token"]
    expected = http.get(
        f"/v1/shops/{demo['merchant_id']}/hub/loyalty",
        headers={"Authorization": f"Bearer {minted}"},
    ).json()
    assert loyalty["state"] == "member"
    assert loyalty["points_balance"] == expected["points_balance"]

    preflight = http.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_sessions_that_do_not_verify_are_401_and_malformed_ones_422(
    http: httpx.Client, ready: dict[str, Any]
) -> None:
    demo = ready["demo"]
    path = f"/v1/shops/{demo['merchant_id']}/hub/session"
    secret, merchant_id = demo["customer_token_secret"], demo["merchant_id"]
    now = int(time.time())
    other = _new_merchant(http)

    def sign(**kwargs: Any) -> dict[str, Any]:
        fields = {"customer_id": "7001", "email": "ana@example.com", **kwargs}
        return _session_body(merchant_id, fields.pop("secret", secret), **fields)

    assert http.post(path, json=sign(issued_at=now + 240)).status_code == 200, "clock skew"
    assert http.post(path, json=sign(issued_at=now - 23 * 3600)).status_code == 200
    refused = {
        "wrong signature": {**sign(), "signature": "0" * 64},
        "25 hours old": sign(issued_at=now - 25 * 3600),
        "6 minutes ahead": sign(issued_at=now + 360),
        "another merchant's secret": sign(secret=other["customer_token_secret"]),
        "email changed after signing": {**sign(), "email": "eve@example.com"},
    }
    for case, body in refused.items():
        assert http.post(path, json=body).status_code == 401, case
        _problem(http.post(path, json=body), 401, "unauthorized")
    good = sign()
    malformed = {
        "customer id not digits": {**good, "customer_id": "gid://shopify/Customer/1"},
        "uppercase hex": {**good, "signature": good["signature"].upper()},
        "issued_at as text": {**good, "issued_at": str(good["issued_at"])},
        "no email": {k: v for k, v in good.items() if k != "email"},
        "unknown field": {**good, "name": "Ana"},
    }
    for case, body in malformed.items():
        assert http.post(path, json=body).status_code == 422, case
    _problem(http.post(path, content=b"not json"), 422, "validation")
    _problem(http.post("/v1/shops/m_ffffffffffffffff/hub/session", json=good), 404, "not-found")


# ---------------------------------------------------------------- 3. storefront origins
def _preflight(http: httpx.Client, merchant_id: str, origin: str) -> httpx.Response:
    return http.options(
        f"/v1/shops/{merchant_id}/hub/loyalty",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )


def test_cors_defaults_to_the_shop_domain(http: httpx.Client) -> None:
    merchant = _new_merchant(http)
    settings = http.get(SETTINGS, headers=_auth(merchant)).json()
    assert settings["storefront_origins"] == [f"https://{merchant['shop_domain']}"]
    shop = f"https://{merchant['shop_domain']}"
    allowed = _preflight(http, merchant["merchant_id"], shop)
    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == shop
    assert _preflight(http, merchant["merchant_id"], "https://www.brand.com").status_code == 403


def test_the_stores_own_domains_are_answered_exactly(http: httpx.Client) -> None:
    merchant = _new_merchant(http)
    origins = ["https://www.brand.com", "https://brand.com:8443"]
    patched = _patch(
        http, merchant, storefront_origins=origins, shop_domain="brand-store.myshopify.com"
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["storefront_origins"] == origins
    assert patched.json()["shop_domain"] == "brand-store.myshopify.com"
    assert http.get(SETTINGS, headers=_auth(merchant)).json()["storefront_origins"] == origins

    loyalty = f"/v1/shops/{merchant['merchant_id']}/hub/loyalty"
    for origin in origins:
        preflight = _preflight(http, merchant["merchant_id"], origin)
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "origin" in preflight.headers["vary"].lower()
        read = http.get(loyalty, headers={"Origin": origin})
        assert read.status_code == 200
        assert read.headers["access-control-allow-origin"] == origin
        assert "origin" in read.headers["vary"].lower()
    for stranger in (
        f"https://{merchant['shop_domain']}",  # not listed any more
        "https://brand.com",
        "https://www.brand.com:8443",
        "http://www.brand.com",
        "https://evil.www.brand.com",
    ):
        assert _preflight(http, merchant["merchant_id"], stranger).status_code == 403, stranger
        read = http.get(loyalty, headers={"Origin": stranger})
        assert "access-control-allow-origin" not in read.headers, stranger
        assert "origin" in read.headers["vary"].lower(), "the answer depends on Origin"


@pytest.mark.parametrize(
    "origins",
    [
        [],
        ["http://www.brand.com"],
        ["https://www.brand.com/shop"],
        ["https://*.brand.com"],
        [f"https://s{n}.brand.com" for n in range(11)],
        "https://www.brand.com",
    ],
    ids=["none", "http", "path", "wildcard", "eleven", "not-a-list"],
)
def test_invalid_storefront_origins_are_422_and_change_nothing(
    http: httpx.Client, origins: Any
) -> None:
    merchant = _new_merchant(http)
    bad = _problem(_patch(http, merchant, storefront_origins=origins), 422, "validation")
    assert bad["errors"][0]["loc"][:2] == ["body", "storefront_origins"]
    settings = http.get(SETTINGS, headers=_auth(merchant)).json()
    assert settings["storefront_origins"] == [f"https://{merchant['shop_domain']}"]
    _problem(_patch(http, merchant, shop_domain="https://x.com/"), 422, "validation")


# ---------------------------------------------------------------- 4. webhooks as Shopify signs
def _deliver(
    http: httpx.Client,
    merchant: dict[str, Any],
    topic: str,
    body: bytes,
    secret: str,
    *,
    shop: str | None = None,
    webhook_id: str | None = None,
) -> httpx.Response:
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature.decode(),
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Shop-Domain": shop or merchant["shop_domain"],
        "X-Shopify-API-Version": "2025-01",
    }
    return http.post(
        f"/v1/webhooks/shopify/{merchant['merchant_id']}", content=body, headers=headers
    )


def _cli_merchant(ready: dict[str, Any], secret: str) -> dict[str, Any]:
    domain = f"cli-{uuid.uuid4().hex[:8]}.myshopify.com"
    done = subprocess.run(
        [sys.executable, "-m", "hubdev.cli", "merchants", "create", "--url", ready["url"],
         "--name", "CLI", "--shop-domain", domain, "--timezone", "UTC", "--currency", "HKD",
         "--webhook-secret", secret],
        capture_output=True, text=True, timeout=60, check=True, cwd=ROOT,
    )  # fmt: skip
    created = json.loads(done.stdout)
    assert created["webhook_secret"] == secret
    return {**created, "shop_domain": domain}


def test_webhooks_signed_with_shopifys_secret_for_this_shop_go_through(
    http: httpx.Client, ready: dict[str, Any]
) -> None:
    shopify_secret = "shpss_" + uuid.uuid4().hex
    merchant = _cli_merchant(ready, shopify_secret)
    assert _patch(http, merchant, hub_status="live").status_code == 200
    assert len(REAL_ORDERS) == 2
    for path in REAL_ORDERS:
        raw = path.read_bytes()
        webhook_id = str(uuid.uuid4())
        other_shop = _deliver(
            http, merchant, "orders/create", raw, shopify_secret,
            shop="another-shop.myshopify.com", webhook_id=webhook_id,
        )  # fmt: skip
        _problem(other_shop, 401, "unauthorized")
        sent = _deliver(http, merchant, "orders/create", raw, shopify_secret, webhook_id=webhook_id)
        assert sent.json() == {"status": "accepted"}, "the refused delivery stored nothing"
        again = _deliver(http, merchant, "orders/create", raw, shopify_secret)
        assert again.json() == {"status": "duplicate"}, "the same order is counted once"


def test_the_operator_sets_the_secret_shopify_signs_with(http: httpx.Client) -> None:
    merchant = _new_merchant(http)
    assert _patch(http, merchant, hub_status="live").status_code == 200
    shopify_secret = uuid.uuid4().hex + uuid.uuid4().hex
    raw = json.dumps(CUSTOMER).encode()
    _problem(_deliver(http, merchant, "customers/create", raw, shopify_secret), 401, "unauthorized")

    put = http.put(
        "/v1/admin/shopify/webhook-secret", headers=_auth(merchant), json={"secret": shopify_secret}
    )
    assert put.status_code == 204 and put.content == b""
    assert shopify_secret not in http.get(SETTINGS, headers=_auth(merchant)).text
    accepted = _deliver(http, merchant, "customers/create", raw, shopify_secret)
    assert accepted.json() == {"status": "accepted"}
    old = _deliver(http, merchant, "customers/create", raw, merchant["webhook_secret"])
    _problem(old, 401, "unauthorized")

    _problem(http.put("/v1/admin/shopify/webhook-secret", json={"secret": "x" * 32}), 401,
             "unauthorized")  # fmt: skip
    for bad in ({}, {"secret": "short"}, {"secret": "has spaces in it"}, {"secret": 42}):
        put = http.put("/v1/admin/shopify/webhook-secret", headers=_auth(merchant), json=bad)
        _problem(put, 422, "validation")


def test_the_topic_header_decides_what_the_body_must_be(http: httpx.Client) -> None:
    merchant = _new_merchant(http)
    assert _patch(http, merchant, hub_status="live").status_code == 200
    secret = merchant["webhook_secret"]
    order = REAL_ORDERS[0].read_bytes()
    customer = json.dumps(CUSTOMER).encode()
    same = str(uuid.uuid4())
    _problem(
        _deliver(http, merchant, "customers/create", order, secret, webhook_id=same),
        422,
        "validation",
    )
    _problem(_deliver(http, merchant, "orders/create", customer, secret), 422, "validation")
    _problem(_deliver(http, merchant, "orders/create", b"[1, 2]", secret), 422, "validation")
    stored = _deliver(http, merchant, "orders/create", order, secret, webhook_id=same)
    assert stored.json() == {"status": "accepted"}, "the refused delivery stored nothing"
    ignored = _deliver(http, merchant, "products/update", b'{"id": 1}', secret)
    assert ignored.json() == {"status": "ignored"}


# ---------------------------------------------------------------- 5. hub status on the storefront
def test_loyalty_carries_the_hub_status(http: httpx.Client, ready: dict[str, Any]) -> None:
    demo = ready["demo"]
    assert http.get(f"/v1/shops/{demo['merchant_id']}/hub/loyalty").json()["hub_status"] == "live"
    fresh = _new_merchant(http)
    body = http.get(f"/v1/shops/{fresh['merchant_id']}/hub/loyalty").json()
    assert body["hub_status"] == "not_launched"
    disabled = _new_merchant(http)
    assert _patch(http, disabled, hub_status="live").status_code == 200
    assert _patch(http, disabled, hub_status="disabled").status_code == 200
    body = http.get(f"/v1/shops/{disabled['merchant_id']}/hub/loyalty").json()
    assert body["hub_status"] == "disabled"
