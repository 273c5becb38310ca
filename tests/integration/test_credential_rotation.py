"""Credential rotation over real HTTP (the `hub dev` server on 127.0.0.1, in process so the
project's clock can be moved): the new value works at once, the previous one until
`previous_valid_until` — also in warm authorizers and token verifiers that cached it before
the rotation — and never after.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import jwt
import pytest

from customer_hub import identity
from customer_hub.infra import clock, secrets
from customer_hub.merchants.profiles import CreatedMerchant
from hubdev.server import LocalServer
from hubdev.stack import LocalStack
from tests.conftest import make_merchant
from tests.support.api import InProcessApi
from tests.support.hub import customer_token, launch


@pytest.fixture(scope="module")
def base_url(stack: LocalStack) -> Iterator[str]:
    server = LocalServer(stack, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url
    server.shutdown()
    server.server_close()


def call(
    base_url: str, method: str, path: str, bearer: str, body: Any = None
) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method)
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                json.loads(raw) if raw else None,
            )
    except urllib.error.HTTPError as error:
        raw = error.read()
        return (
            error.code,
            {k.lower(): v for k, v in error.headers.items()},
            json.loads(raw) if raw else None,
        )


def at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)


def test_a_rotated_api_key_works_until_previous_valid_until_in_a_warm_authorizer(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant = make_merchant()
    old = merchant.api_key
    start = clock.now()
    assert call(base_url, "GET", "/v1/admin/settings", old)[0] == 200  # the authorizer caches it

    status, headers, body = call(base_url, "POST", "/v1/admin/credentials/api_key/rotate", old)
    assert status == 200, body
    assert headers.get("cache-control") == "no-store"
    new = body["api_key"]
    assert new.startswith("chk_") and new != old
    until = clock.parse_iso(body["previous_valid_until"])
    assert timedelta(minutes=9, seconds=58) < until - start <= timedelta(minutes=10, seconds=1)

    assert call(base_url, "GET", "/v1/admin/settings", new)[0] == 200
    at(monkeypatch, until - timedelta(seconds=5))  # warm: the old key was cached before
    assert call(base_url, "GET", "/v1/admin/settings", old)[0] == 200
    assert call(base_url, "GET", "/v1/admin/settings", new)[0] == 200
    at(monkeypatch, until + timedelta(seconds=1))
    status, _, problem = call(base_url, "GET", "/v1/admin/settings", old)
    assert (status, problem["type"].rsplit("/", 1)[-1]) == (401, "unauthorized")
    assert call(base_url, "GET", "/v1/admin/settings", new)[0] == 200
    at(monkeypatch, until + timedelta(days=3))
    assert call(base_url, "GET", "/v1/admin/settings", old)[0] == 401
    assert call(base_url, "GET", "/v1/admin/settings", new)[0] == 200


def test_rotating_twice_keeps_each_previous_key_to_its_own_end(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant = make_merchant()
    first = merchant.api_key
    second = call(base_url, "POST", "/v1/admin/credentials/api_key/rotate", first)[2]
    at(monkeypatch, clock.now() + timedelta(minutes=5))
    third = call(base_url, "POST", "/v1/admin/credentials/api_key/rotate", second["api_key"])[2]
    # A previous key cannot rotate (it might be the leaked one being replaced).
    assert call(base_url, "POST", "/v1/admin/credentials/api_key/rotate", first)[0] == 403
    at(monkeypatch, clock.parse_iso(second["previous_valid_until"]) + timedelta(seconds=1))
    assert call(base_url, "GET", "/v1/admin/settings", first)[0] == 401
    assert call(base_url, "GET", "/v1/admin/settings", second["api_key"])[0] == 200
    assert call(base_url, "GET", "/v1/admin/settings", third["api_key"])[0] == 200


def _token(merchant: CreatedMerchant, secret: str) -> str:
    return customer_token(merchant, "7001", "rotation@example.com", lifetime=600, secret=secret)


def test_a_rotated_token_secret_is_honoured_for_an_hour_by_warm_verifiers(
    base_url: str, api: InProcessApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant = make_merchant()
    launch(api, merchant)
    old_secret = merchant.customer_token_secret

    def send_events(token: str) -> int:
        events = f"/v1/shops/{merchant.merchant_id}/hub/events"
        batch = [
            {"id": uuid.uuid4().hex, "type": "hub_opened", "occurred_at": clock.iso(clock.now())}
        ]
        return call(base_url, "POST", events, token, {"events": batch})[0]

    assert send_events(_token(merchant, old_secret)) == 202
    name = secrets.credentials_secret_name(merchant.merchant_id)
    stale = secrets.read_secret(name)  # what a warm verifier holds
    assert stale is not None

    rotate = "/v1/admin/credentials/customer_token_secret/rotate"
    status, headers, body = call(base_url, "POST", rotate, merchant.api_key)
    assert status == 200, body
    assert headers.get("cache-control") == "no-store"
    new_secret = body["customer_token_secret"]
    assert new_secret != old_secret
    until = clock.parse_iso(body["previous_valid_until"])
    assert timedelta(minutes=59) < until - clock.now() <= timedelta(hours=1)

    # Another container still caches the secret from before the rotation: a token signed with
    # the new secret makes it read the secret again, once.
    secrets._cache.put(name, (time.time() - 60, stale), secrets.CACHE_SECONDS)
    assert send_events(_token(merchant, new_secret)) == 202
    assert send_events(_token(merchant, old_secret)) == 202

    at(monkeypatch, until - timedelta(minutes=1))
    assert send_events(_token(merchant, old_secret)) == 202
    at(monkeypatch, until + timedelta(seconds=1))
    assert send_events(_token(merchant, old_secret)) == 401
    assert send_events(_token(merchant, new_secret)) == 202
    # The webhook secret was kept.
    assert secrets.merchant_credentials(merchant.merchant_id).webhook_secret.get_secret_value() == (
        merchant.webhook_secret
    )


def test_an_unknown_credential_name_is_422_and_rotation_needs_a_key(base_url: str) -> None:
    merchant = make_merchant()
    status, _, problem = call(
        base_url, "POST", "/v1/admin/credentials/password/rotate", merchant.api_key
    )
    assert (status, problem["type"].rsplit("/", 1)[-1]) == (422, "validation")
    assert call(base_url, "POST", "/v1/admin/credentials/api_key/rotate", "chk_nope")[0] == 401
    assert call(base_url, "GET", "/v1/admin/settings", merchant.api_key)[0] == 200


def test_hub_merchants_rotate_prints_the_new_key_once(
    base_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hubdev import cli

    merchant = make_merchant()
    monkeypatch.setenv("HUB_API_KEY", merchant.api_key)
    assert cli.main(["merchants", "rotate", "--url", base_url, "--credential", "api_key"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert call(base_url, "GET", "/v1/admin/settings", printed["api_key"])[0] == 200
    monkeypatch.delenv("HUB_API_KEY")
    assert cli.main(["merchants", "rotate", "--url", base_url, "--credential", "api_key"]) == 2


def test_a_theme_signed_with_the_previous_token_secret_gets_sessions_for_an_hour(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Themes sign with the secret in their metafield: after a rotation, until the operator
    updates it, shoppers still get sessions (signed with the new secret) — for the hour only."""
    merchant = make_merchant()
    old_secret = merchant.customer_token_secret
    rotate = "/v1/admin/credentials/customer_token_secret/rotate"
    body = call(base_url, "POST", rotate, merchant.api_key)[2]
    until = clock.parse_iso(body["previous_valid_until"])

    def session(secret: str) -> tuple[int, Any]:
        issued = int(clock.now().timestamp())
        fields = (merchant.merchant_id, "7002", issued, "theme@example.com")
        signed = {
            "customer_id": "7002",
            "email": "theme@example.com",
            "issued_at": issued,
            "signature": identity.session_signature(secret, *fields),
        }
        path = f"/v1/shops/{merchant.merchant_id}/hub/session"
        status, _, answer = call(base_url, "POST", path, "", signed)
        return status, answer

    status, answer = session(old_secret)
    assert status == 200, answer
    new_secret = body["customer_token_secret"]
    token_claims = jwt.decode(answer["customer_token"], new_secret, algorithms=["HS256"])
    assert token_claims["sub"] == "7002"  # the token is signed with the new secret
    assert session(body["customer_token_secret"])[0] == 200
    at(monkeypatch, until + timedelta(seconds=1))
    assert session(old_secret)[0] == 401
    assert session(body["customer_token_secret"])[0] == 200


def test_a_second_token_secret_rotation_keeps_the_first_ones_promise(
    base_url: str, api: InProcessApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant = make_merchant()
    launch(api, merchant)
    rotate = "/v1/admin/credentials/customer_token_secret/rotate"

    def send_events(secret: str) -> int:
        events = f"/v1/shops/{merchant.merchant_id}/hub/events"
        batch = [
            {"id": uuid.uuid4().hex, "type": "hub_opened", "occurred_at": clock.iso(clock.now())}
        ]
        return call(base_url, "POST", events, _token(merchant, secret), {"events": batch})[0]

    first = merchant.customer_token_secret
    one = call(base_url, "POST", rotate, merchant.api_key)[2]
    at(monkeypatch, clock.now() + timedelta(minutes=30))
    two = call(base_url, "POST", rotate, merchant.api_key)[2]
    second, third = one["customer_token_secret"], two["customer_token_secret"]
    assert {send_events(s) for s in (first, second, third)} == {202}
    at(monkeypatch, clock.parse_iso(one["previous_valid_until"]) + timedelta(seconds=1))
    assert send_events(first) == 401
    assert send_events(second) == 202 and send_events(third) == 202
    at(monkeypatch, clock.parse_iso(two["previous_valid_until"]) + timedelta(seconds=1))
    assert send_events(second) == 401 and send_events(third) == 202
