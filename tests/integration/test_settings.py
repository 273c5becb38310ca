"""Merchant settings through the real routing, authorizer and handlers."""

from __future__ import annotations

from customer_hub.merchants.profiles import CreatedMerchant
from tests.conftest import make_merchant
from tests.support.api import InProcessApi, assert_problem

SETTINGS = "/v1/admin/settings"


def test_settings_of_a_new_merchant(api: InProcessApi, merchant: CreatedMerchant) -> None:
    reply = api.get(SETTINGS, api_key=merchant.api_key)
    assert reply.status == 200
    body = reply.json
    assert body["hub_status"] == "not_launched"
    assert body["launched_at"] is None
    assert body["cart_window_hours"] == 24
    assert body["smile"] == {"connected": False, "last_sync_at": None}
    assert body["timezone"] == "America/New_York"
    assert "api_key" not in body and "webhook_secret" not in body


def test_missing_and_wrong_keys_are_401_problems(api: InProcessApi) -> None:
    assert_problem(api.get(SETTINGS), 401, "unauthorized")
    assert_problem(api.get(SETTINGS, api_key="chk_not-a-key"), 401, "unauthorized")
    assert_problem(api.get(SETTINGS, headers={"Authorization": "Basic abc"}), 401, "unauthorized")
    assert_problem(api.patch(SETTINGS, json_body={"x": 1}), 401, "unauthorized")


def test_each_key_sees_only_its_own_merchant(api: InProcessApi, merchant: CreatedMerchant) -> None:
    other = make_merchant(name="Other Store")
    mine = api.get(SETTINGS, api_key=merchant.api_key).json
    theirs = api.get(SETTINGS, api_key=other.api_key).json
    assert mine["merchant_id"] == merchant.merchant_id
    assert theirs["merchant_id"] == other.merchant_id
    api.patch(SETTINGS, api_key=other.api_key, json_body={"cart_window_hours": 5})
    assert api.get(SETTINGS, api_key=merchant.api_key).json["cart_window_hours"] == 24


def test_hub_status_lifecycle(api: InProcessApi, merchant: CreatedMerchant) -> None:
    key = merchant.api_key
    assert_problem(
        api.patch(SETTINGS, api_key=key, json_body={"hub_status": "disabled"}), 409, "conflict"
    )
    live = api.patch(SETTINGS, api_key=key, json_body={"hub_status": "live"}).json
    assert live["hub_status"] == "live"
    launched_at = live["launched_at"]
    assert launched_at.endswith("Z")
    disabled = api.patch(SETTINGS, api_key=key, json_body={"hub_status": "disabled"}).json
    assert disabled["hub_status"] == "disabled"
    assert disabled["launched_at"] == launched_at
    again = api.patch(SETTINGS, api_key=key, json_body={"hub_status": "live"}).json
    assert again["hub_status"] == "live"
    assert again["launched_at"] == launched_at, "launched_at is set on the first launch only"
    assert_problem(
        api.patch(SETTINGS, api_key=key, json_body={"hub_status": "not_launched"}),
        422,
        "validation",
    )


def test_settings_validation(api: InProcessApi, merchant: CreatedMerchant) -> None:
    key = merchant.api_key
    bad_zone = assert_problem(
        api.patch(SETTINGS, api_key=key, json_body={"timezone": "Mars/Olympus"}), 422, "validation"
    )
    assert bad_zone["errors"][0]["loc"] == ["body", "timezone"]
    for body in (
        {"cart_window_hours": 0},
        {"cart_window_hours": "24"},
        {"cart_window_hours": 10_000},
        {"unknown": True},
        {"timezone": "localtime"},
    ):
        assert_problem(api.patch(SETTINGS, api_key=key, json_body=body), 422, "validation")
    assert_problem(
        api.patch(
            SETTINGS, api_key=key, body=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
        "validation",
    )
    not_utf8 = api.patch(
        SETTINGS, api_key=key, body=b"\xff\xfe", headers={"content-type": "application/json"}
    )
    assert_problem(not_utf8, 422, "validation")
    changed = api.patch(
        SETTINGS, api_key=key, json_body={"timezone": "Australia/Sydney", "cart_window_hours": 48}
    ).json
    assert (changed["timezone"], changed["cart_window_hours"]) == ("Australia/Sydney", 48)


def test_a_body_that_is_not_a_json_object_is_refused(
    api: InProcessApi, merchant: CreatedMerchant
) -> None:
    """A one-element array is not read as its element (Powertools would validate the element)."""
    key = merchant.api_key
    for body in ([{"cart_window_hours": 48}], [], "48", 48):
        refused = assert_problem(
            api.patch(SETTINGS, api_key=key, json_body=body), 422, "validation"
        )
        assert refused["errors"][0]["loc"] == ["body"], body
    assert api.get(SETTINGS, api_key=key).json["cart_window_hours"] == 24
    for path in ("/v1/admin/smile/connection", "/v1/admin/shopify/webhook-secret"):
        refused = assert_problem(api.put(path, api_key=key, json_body=[{}]), 422, "validation")
        assert refused["errors"][0]["loc"] == ["body"], path


def test_unknown_route_is_404(api: InProcessApi) -> None:
    assert api.get("/v1/nothing-here").status == 404
