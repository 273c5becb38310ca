"""Credential rotation against `hub dev` as a subprocess over real HTTP: the new values work at
once and, inside the overlap, so do the previous ones (the clock-moving checks of the window's
end are in tests/integration/test_credential_rotation.py)."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt

from customer_hub.infra import clock
from tests.support.devserver import hub_dev


def _token(merchant_id: str, secret: str) -> str:
    now = int(time.time())
    claims = {
        "iss": merchant_id,
        "sub": "4242",
        "email": "rot@example.com",
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def test_rotated_credentials_work_alongside_the_previous_ones_over_http() -> None:
    with hub_dev() as ready, httpx.Client(base_url=ready["url"], timeout=30) as http:
        demo = ready["demo"]
        merchant_id, old_key = demo["merchant_id"], demo["api_key"]

        def settings(key: str) -> int:
            return http.get(
                "/v1/admin/settings", headers={"Authorization": f"Bearer {key}"}
            ).status_code

        def events(secret: str) -> int:
            batch = [
                {
                    "id": uuid.uuid4().hex,
                    "type": "hub_opened",
                    "occurred_at": clock.iso(clock.now()),
                }
            ]
            return http.post(
                f"/v1/shops/{merchant_id}/hub/events",
                json={"events": batch},
                headers={"Authorization": f"Bearer {_token(merchant_id, secret)}"},
            ).status_code

        assert settings(old_key) == 200  # a warm authorizer
        rotated = http.post(
            "/v1/admin/credentials/api_key/rotate", headers={"Authorization": f"Bearer {old_key}"}
        )
        assert rotated.status_code == 200, rotated.text
        assert rotated.headers["cache-control"] == "no-store"
        new_key = rotated.json()["api_key"]
        assert settings(new_key) == 200 and settings(old_key) == 200
        assert settings("chk_" + uuid.uuid4().hex) == 401

        old_secret = demo["customer_token_secret"]
        assert events(old_secret) == 202
        rotated = http.post(
            "/v1/admin/credentials/customer_token_secret/rotate",
            headers={"Authorization": f"Bearer {new_key}"},
        )
        assert rotated.status_code == 200, rotated.text
        body = rotated.json()
        assert clock.parse_iso(body["previous_valid_until"]) > clock.now()
        assert events(body["customer_token_secret"]) == 202 and events(old_secret) == 202
        assert events("not-the-secret") == 401
        unknown = http.post(
            "/v1/admin/credentials/webhook_secret/rotate",
            headers={"Authorization": f"Bearer {new_key}"},
        )
        assert unknown.status_code == 422
        assert unknown.headers["content-type"].startswith("application/problem+json")
