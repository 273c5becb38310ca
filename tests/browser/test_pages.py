"""`hub dev` serves both front ends: the demo storefront (shopper switcher, local tokens) and the
dashboard (API key kept for the tab only)."""

from __future__ import annotations

from typing import Any

import httpx
import jwt

from tests.browser.conftest import screenshot


def test_ready_line_names_both_pages_and_they_are_served(
    hub: dict[str, Any], http: httpx.Client
) -> None:
    assert hub["storefront_url"] == f"{hub['url']}/storefront/"
    assert hub["dashboard_url"] == f"{hub['url']}/dashboard/"
    pages = [(hub["storefront_url"], "<customer-hub"), (hub["dashboard_url"], "API key")]
    for url, marker in pages:
        page = http.get(url)
        assert page.status_code == 200 and marker in page.text
    module = http.get("/storefront/customer-hub.js")
    assert module.headers["content-type"] == "text/javascript"
    assert http.get("/storefront/../pyproject.toml").status_code == 404
    assert http.get("/storefront/%2e%2e/%2e%2e/pyproject.toml").status_code == 404


def test_local_token_route_mints_customer_tokens_for_the_demo_merchant(
    hub: dict[str, Any], http: httpx.Client
) -> None:
    minted = http.post("/_local/demo/token", json={"email": "Ana@Example.com"})
    assert minted.status_code == 200, minted.text
    secret = hub["demo"]["customer_token_secret"]
    claims = jwt.decode(minted.json()["token"], secret, algorithms=["HS256"])
    assert claims["iss"] == hub["demo"]["merchant_id"]
    assert claims["email"] == "Ana@Example.com"
    assert claims["sub"].isdigit() and claims["sub"] == minted.json()["customer_id"]
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    assert http.post("/_local/demo/token", json={"mail": "x"}).status_code == 422
    unknown = http.post("/_local/demo/token", json={"email": "a@b.c", "merchant_id": "m_nope"})
    assert unknown.status_code == 404


def test_storefront_switcher_hands_the_drawer_a_token_per_demo_shopper(
    page: Any, hub: dict[str, Any], http: httpx.Client
) -> None:
    listed = http.get("/_local/demo/shoppers").json()
    assert listed["merchant_id"] == hub["demo"]["merchant_id"]
    states = [s["state"] for s in listed["shoppers"]]
    assert states[0] == "login_required" and len(states) == len(set(states))
    page.goto(hub["storefront_url"])
    page.wait_for_selector("body[data-ready=true]")
    element = page.locator("customer-hub")
    assert element.get_attribute("merchant-id") == hub["demo"]["merchant_id"]
    assert element.get_attribute("customer-token") == ""
    options = page.locator("#shopper option")
    assert options.count() == len(states)
    for index, shopper in enumerate(listed["shoppers"][1:], start=1):
        page.select_option("#shopper", str(index))
        page.wait_for_function(
            "email => document.getElementById('shopper-note').textContent.includes(email)",
            arg=shopper["email"],
        )
        token = element.get_attribute("customer-token")
        secret = hub["demo"]["customer_token_secret"]
        assert jwt.decode(token, secret, algorithms=["HS256"])["email"] == shopper["email"]
    assert page.page_errors == []


def test_dashboard_asks_for_the_api_key_once_per_tab(page: Any, hub: dict[str, Any]) -> None:
    page.goto(hub["dashboard_url"])
    key_input = page.get_by_label("API key", exact=True)
    key_input.wait_for()
    assert page.locator("#dashboard").is_hidden()
    screenshot(page, "dashboard-sign-in")
    key_input.fill(hub["demo"]["api_key"])
    page.get_by_role("button", name="Open dashboard").click()
    page.locator("#dashboard").wait_for()
    stored = page.evaluate("sessionStorage.getItem('customer-hub.api-key')")
    assert stored == hub["demo"]["api_key"]
    assert page.evaluate("localStorage.length") == 0, "the key is never kept beyond the tab"
    page.reload()
    page.locator("#dashboard").wait_for()
    assert page.locator("#key-form").is_hidden(), "not asked again in the same tab"
    page.get_by_role("button", name="Forget API key").click()
    assert page.locator("#key-form").is_visible()
    assert page.evaluate("sessionStorage.getItem('customer-hub.api-key')") is None


def test_dashboard_rejects_a_wrong_key_and_asks_again(page: Any, hub: dict[str, Any]) -> None:
    page.goto(hub["dashboard_url"])
    page.get_by_label("API key", exact=True).fill("chk_not-a-real-key")
    page.get_by_role("button", name="Open dashboard").click()
    page.locator("#key-error", has_text="not accepted").wait_for()
    assert page.locator("#dashboard").is_hidden()
