"""Dashboard rendering of API.md-shaped answers chosen to hit every case the demo data may not:
a negative change (red), no previous value ("—"), no comparison, gaps in the AOV series, more
than one report page. The page runs in Chromium on `hub dev`; the dashboard API answers are
served through the browser's request routing, so the page sees exactly these documents."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.browser.conftest import screenshot, serious_accessibility_violations
from tests.browser.dashboard_helpers import assert_shows, en_range, settled, sign_in

TYPES = ["order_tracked", "return_started", "coupon_applied", "help_clicked", "chat_started"]


def usd(amount: str | None, currency: str = "USD") -> dict[str, str] | None:
    return None if amount is None else {"amount": amount, "currency": currency}


def answers(
    query: dict[str, str], currency: str = "USD", revenue: str = "1520.00", orders: int = 31
) -> dict[str, Any]:
    """Different figures per period and comparison, so a change of selector must show."""
    today = query.get("period") == "today"
    compare = query.get("compare", "previous_period")
    last = date(2026, 11, 23)
    span = 1 if today else 30
    days = [(last - timedelta(days=n)).isoformat() for n in reversed(range(span))]
    period = {"start": days[0], "end": days[-1], "timezone": "Europe/Warsaw"}
    comparison = None if compare == "none" else {"start": "2026-11-10", "end": "2026-11-16",
                                                 "type": compare}  # fmt: skip
    series = [
        {"start": day, **{kind: (i * 7 + k * 5) % (9 - k) for k, kind in enumerate(TYPES)}}
        for i, day in enumerate(days)
    ]
    totals = {kind: sum(point[kind] for point in series) for kind in TYPES}
    previous = None if comparison is None else {kind: n + 2 for kind, n in totals.items()}

    def compared(value: Any, before: Any, pct: float | None) -> dict[str, Any]:
        if comparison is None:
            return {"value": value, "previous": None, "change_pct": None}
        return {"value": value, "previous": before, "change_pct": pct}

    overview = {
        "data_available": True,
        "period": period,
        "comparison": comparison,
        "total_accounts": {"value": 1234},
        "service_interactions": compared(sum(totals.values()), 40, -12.5 if today else 40.0),
        "active_accounts": compared(3 if today else 210, 0, None),
        "revenue_generated": compared(usd(revenue, currency), usd("1000.00", currency), 52.0),
        "report_url": f"/v1/dashboard/revenue-report?period=custom&start={days[0]}&end={days[-1]}",
    }
    aov_points = [
        {"start": day, "aov": usd(None if gap else f"{40 + i}.50", currency),
         "orders": 0 if gap else i + 1, "revenue": usd("0.00", currency)}
        for i, day in enumerate(days)
        for gap in [i % 3 == 1]
    ]  # fmt: skip
    aov = {
        "period": period,
        "comparison": comparison,
        "value": usd("52.10", currency),
        "previous": None if comparison is None else usd("48.00", currency),
        "change_pct": None if comparison is None else 8.5,
        "orders": orders,
        "series": aov_points,
    }
    service = {
        "period": period,
        "comparison": comparison,
        "interval": "day",
        "totals": totals,
        "previous_totals": previous,
        "series": series,
    }
    return {"overview": overview, "service-interactions": service, "average-order-value": aov}


def report_page(cursor: str | None) -> dict[str, Any]:
    start = 0 if cursor is None else int(cursor)
    lines = [
        {"order_id": str(5000 + n), "order_name": f"#{1000 + n}", "product_id": "42",
         "product_title": "Trail jacket", "quantity": 1, "amount": usd(f"{100 + n}.00"),
         "touchpoint": "product_clicked", "touchpoint_at": "2026-11-20T10:00:00Z",
         "ordered_at": "2026-11-20T12:00:00Z"}
        for n in range(start, min(start + 25, 30))
    ]  # fmt: skip
    return {
        "period": {"start": "2026-11-17", "end": "2026-11-23", "timezone": "Europe/Warsaw"},
        "total": usd("3435.00"),
        "lines": lines,
        "next_cursor": "25" if start == 0 else None,
    }


def serve(page: Any, **figures: Any) -> None:
    """Answers the dashboard routes with `answers(query, **figures)`."""

    def fulfil(route: Any) -> None:
        parts = urlsplit(route.request.url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        name = parts.path.rsplit("/", 1)[-1]
        if name == "revenue-report":
            route.fulfill(json=report_page(query.get("cursor")))
        elif name == "inactive-accounts":
            route.fulfill(json={"accounts": [], "next_cursor": None})
        else:
            route.fulfill(json=answers(query, **figures)[name])

    page.route(re.compile(r"/v1/dashboard/"), fulfil)


def test_changes_are_coloured_and_missing_values_show_a_dash(
    page: Any, hub: dict[str, Any]
) -> None:
    serve(page)
    sign_in(page, hub)
    shown = answers({"period": "last_30_days"})
    assert_shows(page, *shown.values(), compared=True)
    tile = page.locator(".tile[data-metric=service_interactions] .change")
    assert tile.inner_text() == "+40.0% vs 40"
    assert tile.evaluate("e => getComputedStyle(e).color") == "rgb(23, 102, 58)"  # green
    active = page.locator(".tile[data-metric=active_accounts] .change")
    assert active.inner_text() == f"No data for {en_range('2026-11-10', '2026-11-16')}"
    assert "—" not in active.inner_text() and " vs " not in active.inner_text()
    page.set_viewport_size({"width": 1280, "height": 1900})
    screenshot(page, "dashboard-rendering")

    page.select_option("#period", "today")
    settled(page)
    assert_shows(page, *answers({"period": "today"}).values(), compared=True)
    assert tile.inner_text() == "-12.5% vs 40"
    assert tile.evaluate("e => getComputedStyle(e).color") == "rgb(179, 38, 30)"  # red

    page.select_option("#compare", "none")
    settled(page)
    assert_shows(page, *answers({"period": "today", "compare": "none"}).values(), compared=False)
    screenshot(page, "dashboard-rendering-no-comparison")
    gaps = page.locator("#aov-chart path").get_attribute("d") or ""
    assert gaps.count("M") == 1, "one point: one segment"


def test_aov_chart_leaves_gaps_where_there_were_no_orders(page: Any, hub: dict[str, Any]) -> None:
    serve(page)
    sign_in(page, hub)
    path = page.locator("#aov-chart path").get_attribute("d") or ""
    shown = answers({"period": "last_30_days"})["average-order-value"]["series"]
    segments = 1 + sum(1 for a, b in itertools.pairwise(shown) if not a["aov"] and b["aov"])
    assert path.count("M") == segments


def test_report_pages_forward_and_back(page: Any, hub: dict[str, Any]) -> None:
    serve(page)
    sign_in(page, hub)
    page.get_by_role("button", name="View report").click()
    page.locator("#report-page", has_text="Page 1").wait_for()
    assert page.locator("#report-lines tr").count() == 25
    assert page.locator("#report-total").inner_text() == "$3,435.00"
    assert page.get_by_role("button", name="Previous page").is_disabled()
    page.get_by_role("button", name="Next page").click()
    page.locator("#report-page", has_text="Page 2").wait_for()
    assert page.locator("#report-lines tr").count() == 5
    assert page.get_by_role("button", name="Next page").is_disabled()
    assert page.locator("#report-lines tr td").first.inner_text() == "#1025"
    page.get_by_role("button", name="Previous page").click()
    page.locator("#report-page", has_text="Page 1").wait_for()
    assert page.locator("#report-lines tr td").first.inner_text() == "#1000"


def test_legend_toggles_a_type_out_of_the_stacked_bars_by_keyboard(
    page: Any, hub: dict[str, Any]
) -> None:
    serve(page)
    sign_in(page, hub)
    series = answers({"period": "last_30_days"})["service-interactions"]["series"]

    def bar_totals() -> list[int]:
        totals = page.locator("#service-chart text.bar-total")
        return [int(v) for v in totals.evaluate_all("ts => ts.map(t => t.dataset.value)")]

    everything = [sum(point[kind] for kind in TYPES) for point in series]
    assert bar_totals() == [n for n in everything if n]
    toggle = page.get_by_role("button", name="Orders tracked")
    assert toggle.get_attribute("aria-pressed") == "true"
    toggle.focus()
    page.keyboard.press("Space")
    assert (
        page.get_by_role("button", name="Orders tracked").get_attribute("aria-pressed") == "false"
    )
    assert page.locator("#service-chart g[data-series=order_tracked]").count() == 0
    others = [n - point["order_tracked"] for n, point in zip(everything, series, strict=True)]
    assert bar_totals() == [n for n in others if n]
    assert page.evaluate("document.activeElement.dataset.type") == "order_tracked"
    total = page.locator("#service-totals tr[data-type=order_tracked] .total").inner_text()
    assert total == f"{sum(point['order_tracked'] for point in series):,}", "the table keeps it"
    page.keyboard.press("Enter")
    assert page.locator("#service-chart g[data-series=order_tracked] rect").count() == len(series)


def test_small_counts_get_whole_number_gridlines(page: Any, hub: dict[str, Any]) -> None:
    serve(page)
    sign_in(page, hub)
    page.select_option("#period", "today")
    settled(page)
    marks = page.locator("#service-chart text.y-label")
    axis = marks.evaluate_all("ts => ts.map(t => t.textContent)")
    assert axis and all(re.fullmatch(r"\d+", label) for label in axis), axis


def test_loading_then_error_then_retry(page: Any, hub: dict[str, Any]) -> None:
    serve(page)
    sign_in(page, hub)
    held: list[Any] = []
    page.route(re.compile(r"/v1/dashboard/overview"), lambda route: held.append(route))
    page.select_option("#period", "today")
    page.locator("#status", has_text="Loading…").wait_for()
    assert page.locator("#dashboard").get_attribute("aria-busy") == "true"
    problem = {
        "type": "https://customer-hub.dev/problems/temporarily-unavailable",
        "title": "Temporarily unavailable",
        "status": 503,
        "detail": "The data store is busy; try again in a moment.",
    }
    while not held:  # the held request arrives
        page.wait_for_timeout(50)
    held[0].fulfill(status=503, json=problem, headers={"Retry-After": "1"})
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().startswith(
        "Could not load the dashboard: The data store is busy; try again in a moment."
    )
    assert page.locator("#dashboard").get_attribute("aria-busy") is None
    screenshot(page, "dashboard-error")
    assert serious_accessibility_violations(page) == []

    page.unroute(re.compile(r"/v1/dashboard/overview"))
    page.route(
        re.compile(r"/v1/dashboard/overview"), lambda route: route.fulfill(status=503, json=problem)
    )
    page.get_by_label("Language").select_option("pl")
    page.get_by_role("alert").filter(has_text="Nie udało się wczytać pulpitu").wait_for()
    assert serious_accessibility_violations(page) == []
    page.get_by_label("Język").select_option("en")
    page.get_by_role("alert").filter(has_text="Could not load").wait_for()

    page.unroute(re.compile(r"/v1/dashboard/overview"))
    page.get_by_role("button", name="Try again").click()
    settled(page)
    assert page.get_by_role("alert").count() == 0
    assert_shows(page, *answers({"period": "today"}).values(), compared=True)


def test_sections_are_reachable_from_the_top_by_keyboard(page: Any, hub: dict[str, Any]) -> None:
    serve(page)
    sign_in(page, hub)
    page.evaluate("window.scrollTo(0, 0)")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Average order value":
            break
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#aov"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#aov"
    top = page.locator("#aov").evaluate("e => e.getBoundingClientRect().top")
    assert 0 <= top < 100, "the section is scrolled to the top"


def test_large_counts_over_many_intervals_stay_readable(page: Any, hub: dict[str, Any]) -> None:
    days = [(date(2026, 8, 26) + timedelta(days=n)).isoformat() for n in range(90)]
    series = [{"start": day, **{kind: 900 + 37 * n + 11 * k for k, kind in enumerate(TYPES)}}
              for n, day in enumerate(days)]  # fmt: skip
    service = {**answers({"period": "last_90_days"})["service-interactions"], "series": series,
               "totals": {kind: sum(p[kind] for p in series) for kind in TYPES}}  # fmt: skip

    def fulfil(route: Any) -> None:
        name = urlsplit(route.request.url).path.rsplit("/", 1)[-1]
        route.fulfill(json=service if name == "service-interactions" else answers({})[name])

    serve(page)
    page.route(re.compile(r"/v1/dashboard/(overview|service-interactions|average-order)"), fulfil)
    sign_in(page, hub)
    marks = page.locator("#service-chart text.y-label")
    axis = marks.evaluate_all("ts => ts.map(t => t.textContent)")
    assert axis == ["0", "12,500", "25,000"], "grouped, round gridlines"
    bars = page.locator("#service-chart g[data-series=chat_started] rect")
    assert bars.count() == 90
    shown = page.locator("#service-chart text.bar-total")
    own_text = "ts => ts.map(t => [...t.childNodes].filter(n => n.nodeType === 3).length)"
    assert set(shown.evaluate_all(own_text)) == {0}, "no per-bar figure crowds 90 bars"
    last = sum(series[-1][kind] for kind in TYPES)
    assert shown.last.evaluate("t => t.querySelector('title').textContent").endswith(
        f"Total: {last:,}"
    )
    width = float(bars.first.get_attribute("width") or 0)
    assert width >= 2, "every bar stays visible"
