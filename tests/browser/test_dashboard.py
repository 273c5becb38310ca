"""The merchant dashboard in real Chromium against `hub dev`: every figure is the API's own."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.browser.conftest import screenshot
from tests.browser.dashboard_helpers import (
    assert_shows,
    choose,
    money,
    settled,
    sign_in,
)


def dashboard_api(http: httpx.Client, hub: dict[str, Any], path: str, **query: str) -> Any:
    headers = {"Authorization": f"Bearer {hub['demo']['api_key']}"}
    response = http.get(f"/v1/dashboard/{path}", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def traffic(hub: dict[str, Any], http: httpx.Client) -> None:
    """A few hub interactions of today by three shoppers, so no figure is trivially zero."""
    merchant = hub["demo"]["merchant_id"]
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    for n, kinds in enumerate([["hub_opened", "order_tracked"], ["hub_opened", "help_clicked"],
                               ["hub_opened", "order_tracked", "chat_started"]]):  # fmt: skip
        token = http.post("/_local/demo/token", json={"email": f"dash.{n}@example.com"})
        events = [{"id": str(uuid.uuid4()), "type": kind, "occurred_at": now} for kind in kinds]
        posted = http.post(
            f"/v1/shops/{merchant}/hub/events",
            json={"events": events},
            headers={"Authorization": f"Bearer {token.json()['token']}"},
        )
        assert posted.status_code == 202, posted.text
    assert http.post("/_local/drain").status_code == 200


def assert_matches_api(page: Any, http: httpx.Client, hub: dict[str, Any], **query: str) -> None:
    assert_shows(
        page,
        dashboard_api(http, hub, "overview", **query),
        dashboard_api(http, hub, "service-interactions", **query),
        dashboard_api(http, hub, "average-order-value", **query),
        compared=query.get("compare", "previous_period") != "none",
    )


def test_tiles_and_charts_match_the_api_for_two_periods_and_compare_modes(
    page: Any, hub: dict[str, Any], http: httpx.Client, traffic: None
) -> None:
    sign_in(page, hub)
    assert_matches_api(page, http, hub, period="last_30_days", compare="previous_period")
    overview = dashboard_api(http, hub, "overview", period="last_30_days")
    assert overview["service_interactions"]["value"] >= 4, "today's interactions are counted"
    screenshot(page, "dashboard")
    page.set_viewport_size({"width": 1280, "height": 2000})
    screenshot(page, "dashboard-full")

    choose(page, period="today")
    assert_matches_api(page, http, hub, period="today", compare="previous_period")
    choose(page, compare="none")
    assert_matches_api(page, http, hub, period="today", compare="none")
    choose(page, period="last_7_days", compare="previous_year")
    assert_matches_api(page, http, hub, period="last_7_days", compare="previous_year")


def test_custom_range_drives_every_section(
    page: Any, hub: dict[str, Any], http: httpx.Client, traffic: None
) -> None:
    sign_in(page, hub)
    today = dashboard_api(http, hub, "overview", period="today")["period"]["end"]
    start = f"{today[:8]}01"
    page.select_option("#period", "custom")
    assert page.locator("#start").is_visible() and page.locator("#end").is_visible()
    page.fill("#start", start)
    with page.expect_response(lambda r: "/v1/dashboard/overview" in r.url and "custom" in r.url):
        page.fill("#end", today)
    settled(page)
    assert_matches_api(page, http, hub, period="custom", start=start, end=today)


def test_view_report_pages_through_the_attributed_lines(
    page: Any, hub: dict[str, Any], http: httpx.Client, traffic: None
) -> None:
    sign_in(page, hub)
    page.select_option("#period", "last_90_days")
    settled(page)
    overview = dashboard_api(http, hub, "overview", period="last_90_days")
    page.get_by_role("button", name="View report").click()
    page.wait_for_selector("#report-lines tr")
    headers = {"Authorization": f"Bearer {hub['demo']['api_key']}"}
    first = http.get(overview["report_url"], headers=headers).json()
    assert page.locator("#report-total").inner_text() == money(first["total"])
    rows = page.locator("#report-lines tr")
    assert rows.count() == max(1, len(first["lines"]))
    for row, line in zip(rows.all(), first["lines"], strict=False):
        cells = row.locator("td").all_inner_texts()
        assert cells[0] == (line["order_name"] or line["order_id"])
        assert cells[3] == money(line["amount"])
    next_button = page.get_by_role("button", name="Next page")
    assert next_button.is_disabled() == (first["next_cursor"] is None)
    if first["next_cursor"]:
        second = http.get(
            overview["report_url"], params={"cursor": first["next_cursor"]}, headers=headers
        ).json()
        next_button.click()
        page.locator("#report-page", has_text="Page 2").wait_for()
        assert page.locator("#report-lines tr").count() == len(second["lines"])
        page.get_by_role("button", name="Previous page").click()
        page.locator("#report-page", has_text="Page 1").wait_for()
    screenshot(page, "dashboard-report")


def test_inactive_accounts_list_and_csv_download(
    page: Any, hub: dict[str, Any], http: httpx.Client, traffic: None
) -> None:
    sign_in(page, hub)
    headers = {"Authorization": f"Bearer {hub['demo']['api_key']}"}
    accounts: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"days": "1", **({"cursor": cursor} if cursor else {})}
        body = http.get("/v1/dashboard/inactive-accounts", params=params, headers=headers).json()
        accounts += body["accounts"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    page.fill("#inactive-days", "1")
    with page.expect_response(lambda r: "inactive-accounts" in r.url):
        page.get_by_role("button", name="Show").click()
    shown = page.locator("#inactive-rows tr td:nth-child(2)").all_inner_texts()
    assert shown[: len(accounts)] == [a["email"] for a in accounts][: len(shown)]
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    text = download.value.path().read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["customer_id", "email", "last_opened_at"]
    assert [r[1] for r in rows[1:]] == [a["email"] for a in accounts]


def test_interval_picker_asks_the_api_for_days_weeks_or_months(
    page: Any, hub: dict[str, Any], http: httpx.Client, traffic: None
) -> None:
    sign_in(page, hub)
    choose(page, period="last_90_days")
    assert page.locator("#service-chart").get_attribute("data-interval") == "week", "API default"
    for interval in ["day", "month", "week"]:
        with page.expect_request(lambda r: "service-interactions" in r.url) as asked:
            page.get_by_label("Chart interval").select_option(interval)
        settled(page)
        assert parse_qs(urlsplit(asked.value.url).query)["interval"] == [interval]
        assert page.locator("#service-chart").get_attribute("data-interval") == interval
        assert_matches_api(page, http, hub, period="last_90_days", interval=interval)
    with page.expect_request(lambda r: "service-interactions" in r.url) as asked:
        page.get_by_label("Chart interval").select_option(label="Automatic")
    settled(page)
    assert "interval" not in parse_qs(urlsplit(asked.value.url).query)
    screenshot(page, "dashboard-weekly")
