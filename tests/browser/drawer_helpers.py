"""The demo storefront and its drawer as the browser tests see them, and the API behind it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

STATES = ["login_required", "excluded", "not_member", "join", "member"]
DRAWER = "customer-hub .drawer"
FOR_YOU = "customer-hub .body"


def shoppers(http: httpx.Client) -> dict[str, dict[str, Any]]:
    listed = http.get("/_local/demo/shoppers").json()["shoppers"]
    return {shopper["state"]: shopper for shopper in listed}


def token_for(http: httpx.Client, shopper: dict[str, Any]) -> str | None:
    if not shopper["email"]:
        return None
    body = {"email": shopper["email"], "customer_id": shopper["customer_id"]}
    response = http.post("/_local/demo/token", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def hub_api(http: httpx.Client, hub: dict[str, Any], path: str, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    merchant = hub["demo"]["merchant_id"]
    response = http.get(f"/v1/shops/{merchant}/hub{path}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def points(n: int, label: dict[str, str]) -> str:
    return f"{n:,} {label['one'] if n == 1 else label['other']}"


def open_drawer(page: Any, hub: dict[str, Any], state: str) -> None:
    page.goto(f"{hub['storefront_url']}?state={state}")
    page.wait_for_selector("body[data-ready=true]")
    page.click("customer-hub .launcher")
    page.wait_for_selector(f"{FOR_YOU} [data-state], {FOR_YOU} [role=alert]", state="attached")


def for_you_text(page: Any) -> str:
    return str(page.inner_text(FOR_YOU))


def needs_state(http: httpx.Client, state: str) -> dict[str, Any]:
    listed = shoppers(http)
    if state not in listed:
        pytest.fail(f"hub dev lists no demo shopper in state {state!r}: {sorted(listed)}")
    return listed[state]
