"""`hub dev` end to end: a subprocess, real HTTP on 127.0.0.1, the ready line contract."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx

from tests.support.devserver import hub_dev

SETTINGS = "/v1/admin/settings"


def _assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"https://customer-hub.dev/problems/{slug}"
    assert body["status"] == status and body["title"] and body["detail"]
    return dict(body)


def test_merchant_lifecycle_over_http() -> None:
    with hub_dev("--no-demo") as ready:
        assert "demo" not in ready
        assert ready["aws_endpoint"].startswith("http://127.0.0.1:")
        with httpx.Client(base_url=ready["url"], timeout=30) as http:
            created = http.post(
                "/_local/merchants",
                json={
                    "name": "Kite Shop",
                    "shop_domain": "kite-shop.myshopify.com",
                    "timezone": "Europe/Lisbon",
                    "currency": "EUR",
                },
            )
            assert created.status_code == 201, created.text
            merchant = created.json()
            assert set(merchant) == {
                "merchant_id",
                "api_key",
                "customer_token_secret",
                "webhook_secret",
            }
            auth = {"Authorization": f"Bearer {merchant['api_key']}"}

            settings = http.get(SETTINGS, headers=auth).json()
            assert settings["name"] == "Kite Shop"
            assert settings["currency"] == "EUR"
            assert settings["hub_status"] == "not_launched"

            patched = http.patch(
                SETTINGS, headers=auth, json={"hub_status": "live", "cart_window_hours": 12}
            )
            assert patched.status_code == 200, patched.text
            assert patched.json()["hub_status"] == "live"
            assert http.get(SETTINGS, headers=auth).json()["cart_window_hours"] == 12

            _assert_problem(http.get(SETTINGS), 401, "unauthorized")
            _assert_problem(
                http.get(SETTINGS, headers={"Authorization": "Bearer nope"}), 401, "unauthorized"
            )
            bad = _assert_problem(
                http.patch(SETTINGS, headers=auth, json={"timezone": "Europe/Atlantis"}),
                422,
                "validation",
            )
            assert bad["errors"][0]["loc"] == ["body", "timezone"]
            _assert_problem(
                http.post("/_local/merchants", json={"name": "x", "timezone": "UTC"}),
                422,
                "validation",
            )
            assert http.post("/_local/drain").status_code == 200
            assert http.request("TRACE", SETTINGS).status_code == 404, "any verb is routed"
            cli = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "hubdev.cli",
                    "merchants",
                    "create",
                    "--url",
                    ready["url"],
                    "--name",
                    "CLI Shop",
                    "--shop-domain",
                    "cli-shop.myshopify.com",
                    "--timezone",
                    "Asia/Tokyo",
                    "--currency",
                    "JPY",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            from_cli = json.loads(cli.stdout)
            cli_settings = http.get(
                SETTINGS, headers={"Authorization": f"Bearer {from_cli['api_key']}"}
            ).json()
            assert (cli_settings["name"], cli_settings["currency"]) == ("CLI Shop", "JPY")
    logs = "".join(ready["logs"])
    for secret in merchant.values():
        if secret != merchant["merchant_id"]:
            assert secret not in logs, "a secret was logged"
    assert ready["returncode"] == 0, "Ctrl-C stops it cleanly"


def test_demo_merchant_is_ready_with_credentials() -> None:
    with hub_dev() as ready:
        demo = ready["demo"]
        assert ready["startup_seconds_observed"] < 30
        response = httpx.get(
            ready["url"] + SETTINGS,
            headers={"Authorization": f"Bearer {demo['api_key']}"},
            timeout=30,
        )
        assert response.status_code == 200
        assert response.json()["merchant_id"] == demo["merchant_id"]
        assert response.json()["hub_status"] == "live"
