"""The dashboard's Settings section in real Chromium against `hub dev`: every change made in the
page is read back through the public API and survives a reload. Each test works on a merchant of
its own (`POST /_local/merchants`), so the demo merchant the other browser tests read is left as
it is."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from customer_hub.identity import mint_customer_token
from hubdev.smile_dev import DEMO_SMILE_KEY
from tests.browser.conftest import screenshot, serious_accessibility_violations
from tests.browser.dashboard_helpers import settled


def new_merchant(http: httpx.Client) -> dict[str, Any]:
    made = http.post(
        "/_local/merchants",
        json={
            "name": "Loja Settings",
            "shop_domain": f"settings-{uuid.uuid4().hex[:10]}.myshopify.com",
            "timezone": "Europe/Warsaw",
            "currency": "PLN",
        },
    )
    assert made.status_code == 201, made.text
    return made.json()


def settings(http: httpx.Client, key: str) -> dict[str, Any]:
    answer = http.get("/v1/admin/settings", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def open_settings(page: Any, hub: dict[str, Any], key: str) -> None:
    page.goto(hub["dashboard_url"])
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_role("button", name="Open dashboard").click()
    settled(page)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Settings").click()
    assert page.evaluate("location.hash") == "#settings"


def confirm(page: Any, button: str, expected: str, *, accept: bool = True) -> None:
    page.get_by_role("button", name=button).click()
    dialog = page.get_by_role("dialog", name="Please confirm")
    assert expected in dialog.inner_text()
    dialog.get_by_role("button", name="Confirm" if accept else "Cancel").click()
    dialog.wait_for(state="hidden")


def test_launch_disable_and_shop_settings_round_trip_through_the_api(
    page: Any, hub: dict[str, Any], http: httpx.Client
) -> None:
    merchant = new_merchant(http)
    key = merchant["api_key"]
    open_settings(page, hub, key)
    assert "not launched" in page.locator("#hub-state").inner_text()
    assert "Data is not available yet" in page.locator("#status").inner_text()
    total_note = page.locator("#total-note")
    assert total_note.inner_text() == (
        "Accounts created since the hub launched; the hub is not launched yet."
    )

    confirm(page, "Launch the hub", "Launch the hub?", accept=False)
    assert settings(http, key)["hub_status"] == "not_launched", "Cancel changes nothing"
    confirm(page, "Launch the hub", "Launch the hub?")
    page.locator("#hub-message", has_text="The hub is live.").wait_for()
    after = settings(http, key)
    assert after["hub_status"] == "live" and after["launched_at"]
    assert page.locator("#shop-name").inner_text() == "Loja Settings · hub live"
    total_note.filter(has_text="Accounts created since the hub launched on").wait_for()
    active_note = page.locator(".tile[data-metric=active_accounts] .note").inner_text()
    assert "can exceed Total accounts" in active_note

    page.get_by_label("Time zone").select_option("America/Sao_Paulo")
    page.get_by_label("Cart window (hours)").fill("48")
    page.get_by_label("Storefront origins").fill(
        "https://www.loja.example\n\nhttps://shop.loja.example:8443\n"
    )
    with page.expect_request(lambda r: r.method == "PATCH") as patched:
        page.get_by_role("button", name="Save shop settings").click()
    assert set(json.loads(patched.value.post_data or "{}")) == {
        "timezone",
        "cart_window_hours",
        "storefront_origins",
    }, "only what changed is sent"
    page.locator("#shop-message", has_text="Shop settings saved.").wait_for()
    saved = settings(http, key)
    assert saved["timezone"] == "America/Sao_Paulo"
    assert saved["cart_window_hours"] == 48
    assert saved["storefront_origins"] == [
        "https://www.loja.example",
        "https://shop.loja.example:8443",
    ]

    page.reload()
    settled(page)
    assert page.get_by_label("Time zone").input_value() == "America/Sao_Paulo"
    assert page.get_by_label("Cart window (hours)").input_value() == "48"
    assert page.get_by_label("Storefront origins").input_value() == (
        "https://www.loja.example\nhttps://shop.loja.example:8443"
    )
    assert "(America/Sao_Paulo)" in page.locator("#period-caption").inner_text()
    page.get_by_role("button", name="Save shop settings").click()
    page.locator("#shop-message", has_text="Nothing to save").wait_for()

    confirm(page, "Disable the hub", "Disable the hub?")
    page.locator("#hub-message", has_text="The hub is disabled.").wait_for()
    assert settings(http, key)["hub_status"] == "disabled"
    page.reload()
    settled(page)
    assert page.locator("#hub-state").get_attribute("data-status") == "disabled"
    assert page.get_by_role("button", name="Launch the hub").is_visible()
    assert page.page_errors == []


def test_rejected_values_are_shown_next_to_their_field_and_change_nothing(
    page: Any, hub: dict[str, Any], http: httpx.Client
) -> None:
    merchant = new_merchant(http)
    key = merchant["api_key"]
    open_settings(page, hub, key)
    before = settings(http, key)

    page.get_by_label("Cart window (hours)").fill("0")
    page.get_by_role("button", name="Save shop settings").click()
    cart = page.get_by_label("Cart window (hours)")
    page.locator("#cart-window-error", has_text="Not accepted").wait_for()
    assert cart.get_attribute("aria-invalid") == "true"
    assert "cart-window-error" in (cart.get_attribute("aria-describedby") or "")
    assert page.evaluate("document.activeElement.id") == "cart-window"

    cart.fill("24")
    page.get_by_label("Storefront origins").fill("ftp://nope.example/path")
    page.get_by_role("button", name="Save shop settings").click()
    page.locator("#origins-error", has_text="Not accepted").wait_for()
    assert page.locator("#cart-window-error").inner_text() == "", "the fixed field is cleared"
    assert page.get_by_label("Storefront origins").get_attribute("aria-invalid") == "true"

    page.get_by_label("Smile.io private API key").fill("sk_not_a_smile_key_42")
    page.get_by_role("button", name="Connect Smile.io").click()
    page.locator("#smile-key-error", has_text="Not accepted").wait_for()
    assert page.get_by_label("Smile.io private API key").get_attribute("aria-invalid") == "true"

    assert settings(http, key) == before
    page.locator("#shop-card").scroll_into_view_if_needed()
    screenshot(page, "dashboard-settings-errors")
    assert serious_accessibility_violations(page) == []


def test_smile_connect_sync_progress_and_disconnect(
    page: Any, hub: dict[str, Any], http: httpx.Client
) -> None:
    merchant = new_merchant(http)
    key = merchant["api_key"]
    auth = {"Authorization": f"Bearer {key}"}
    http.patch("/v1/admin/settings", json={"hub_status": "live"}, headers=auth)
    open_settings(page, hub, key)
    assert page.locator("#smile-state").inner_text() == "Not connected to Smile.io."
    assert page.locator("#smile-sync").is_hidden()

    page.get_by_label("Smile.io private API key").fill(DEMO_SMILE_KEY)
    page.get_by_role("button", name="Connect Smile.io").click()
    page.locator("#sync-last", has_text="Last successful sync").wait_for(timeout=120_000)
    page.locator("#smile-sync[aria-busy=false]").wait_for()
    sync = http.get("/v1/admin/smile/sync", headers=auth).json()
    assert sync["customers_synced"] > 0
    assert page.locator("#sync-customers").inner_text() == (
        f"{sync['customers_synced']} customers updated by the last sync"
    )
    assert settings(http, key)["smile"]["connected"] is True
    assert page.get_by_label("Smile.io private API key").input_value() == ""
    assert page.locator("#smile-form").is_hidden(), "the key is never shown again"

    # While the API says a sync runs the page shows progress and keeps asking until it ends.
    running = {**sync, "status": "running", "customers_synced": 120}
    answers = [running, running]

    def first_running(route: Any) -> None:
        if route.request.method == "GET" and answers:
            route.fulfill(json=answers.pop())
        else:
            route.continue_()

    page.route("**/v1/admin/smile/sync", first_running)
    with page.expect_request(lambda r: r.url.endswith("/smile/sync") and r.method == "POST"):
        page.get_by_role("button", name="Sync now").click()
    page.locator("#sync-state[data-status=running]").wait_for()
    assert page.locator("#sync-state").inner_text() == "Sync in progress…"
    assert page.locator("#sync-progress").is_visible()
    assert page.get_by_role("button", name="Sync now").is_disabled()
    assert page.locator("#sync-customers").inner_text() == "120 customers updated by the last sync"
    page.locator("#smile-sync[aria-busy=false]").wait_for(timeout=120_000)
    assert page.locator("#sync-state[data-status=idle]").inner_text() == "Idle"
    assert page.locator("#sync-progress").is_hidden()
    assert page.get_by_role("button", name="Sync now").is_enabled()
    after = http.get("/v1/admin/smile/sync", headers=auth).json()
    assert (
        page.locator("#sync-requests").inner_text()
        == f"{after['requests_made']} requests to Smile.io"
    )
    page.unroute("**/v1/admin/smile/sync")
    page.locator("#smile-card").scroll_into_view_if_needed()
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.locator("#settings").scroll_into_view_if_needed()
    screenshot(page, "docs-dashboard-settings")
    assert serious_accessibility_violations(page) == []

    page.reload()
    settled(page)
    assert page.locator("#smile-state").inner_text() == "Connected to Smile.io."
    confirm(page, "Disconnect Smile.io", "Disconnect Smile.io?")
    page.locator("#smile-message", has_text="Smile.io is disconnected.").wait_for()
    assert settings(http, key)["smile"]["connected"] is False
    assert page.get_by_label("Smile.io private API key").is_visible()
    assert page.page_errors == []


def shopify_webhook(http: httpx.Client, merchant: dict[str, Any], secret: str) -> int:
    body = b'{"id": 1}'
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    answer = http.post(
        f"/v1/webhooks/shopify/{merchant['merchant_id']}",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
            "X-Shopify-Topic": "app/uninstalled",
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Shop-Domain": settings(http, merchant["api_key"])["shop_domain"],
        },
    )
    return answer.status_code


def test_webhook_secret_is_write_only_and_credentials_rotate_with_the_new_value_shown_once(
    page: Any, hub: dict[str, Any], http: httpx.Client
) -> None:
    merchant = new_merchant(http)
    old_key = merchant["api_key"]
    http.patch(
        "/v1/admin/settings",
        json={"hub_status": "live"},
        headers={"Authorization": f"Bearer {old_key}"},
    )
    open_settings(page, hub, old_key)

    secret = f"shpss_{uuid.uuid4().hex}"
    page.get_by_label("New webhook secret").fill(secret)
    page.get_by_role("button", name="Save webhook secret").click()
    page.locator("#webhook-message", has_text="Webhook secret saved.").wait_for()
    assert page.get_by_label("New webhook secret").input_value() == ""
    assert shopify_webhook(http, merchant, secret) == 200, "Shopify's signature with the new secret"
    assert shopify_webhook(http, merchant, merchant["webhook_secret"]) == 401

    confirm(page, "Rotate the API key", "stops working 10 minutes", accept=False)
    assert page.locator("#rotated").is_hidden()
    confirm(page, "Rotate the API key", "stops working 10 minutes")
    page.get_by_label("New API key").wait_for()
    new_key = page.get_by_label("New API key").input_value()
    assert new_key and new_key != old_key
    assert "not shown again" in page.locator("#rotated-note").inner_text()
    assert settings(http, new_key)["merchant_id"] == merchant["merchant_id"]
    assert settings(http, old_key)["merchant_id"] == merchant["merchant_id"], "10 more minutes"
    with page.expect_request(lambda r: "/v1/admin/settings" in r.url) as asked:
        page.reload()
    assert asked.value.headers["authorization"] == f"Bearer {new_key}", "the tab keeps the new key"
    settled(page)
    assert page.locator("#rotated").is_hidden(), "shown once"

    confirm(page, "Rotate the customer token secret", "one hour")
    label = page.get_by_label("New customer token secret")
    label.wait_for()
    token_secret = label.input_value()
    assert token_secret and token_secret != merchant["customer_token_secret"]
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    token = mint_customer_token(merchant["merchant_id"], token_secret, "7001", "rot@example.com")
    event = {"id": str(uuid.uuid4()), "type": "hub_opened", "occurred_at": now}
    posted = http.post(
        f"/v1/shops/{merchant['merchant_id']}/hub/events",
        json={"events": [event]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert posted.status_code == 202, posted.text
    assert page.page_errors == []
