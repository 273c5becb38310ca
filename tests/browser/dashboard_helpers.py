"""The dashboard page as the browser tests see it: sign-in, selectors, and what it must show."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

SERVICE_TYPES = [
    "order_tracked",
    "return_started",
    "coupon_applied",
    "help_clicked",
    "chat_started",
]
METRICS = ["service_interactions", "active_accounts", "revenue_generated"]


def money(value: dict[str, str] | None) -> str:
    if value is None:
        return "—"
    assert value["currency"] == "USD", "the demo merchant's shop currency"
    amount = Decimal(value["amount"])
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def change(pct: float | None) -> tuple[str, str]:
    if pct is None:
        return "—", ""
    sign = "+" if pct > 0 else ""
    return f"{sign}{pct:.1f}%", "positive" if pct > 0 else "negative" if pct < 0 else ""


def en_range(start: str, end: str) -> str:
    """A comparison range as Chromium's Intl shows it in en-US ("Oct 12 – Nov 10"; the year when
    not the current one)."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    this_year = datetime.now(UTC).year
    year = first.year != this_year or last.year != this_year
    left = f"{first:%b} {first.day}"
    if first == last:
        return f"{left}, {first.year}" if year else left
    if first.year != last.year:
        return f"{left}, {first.year} – {last:%b} {last.day}, {last.year}"
    right = f"{last.day}" if first.month == last.month else f"{last:%b} {last.day}"
    return f"{left} – {right}" + (f", {last.year}" if year else "")


def comparison_line(figures: dict[str, Any], comparison: dict[str, Any], fmt: Any) -> str:
    """What the page says under a compared figure: the change, or that the comparison is empty."""
    previous = figures["previous"]
    amount = previous.get("amount") if isinstance(previous, dict) else previous
    empty = previous is None or Decimal(str(amount)) == 0
    if figures["change_pct"] is None and empty:
        return f"No data for {en_range(comparison['start'], comparison['end'])}"
    return f"{change(figures['change_pct'])[0]} vs {fmt(previous)}"


def orders(n: int) -> str:
    return f"{count(n)} order{'' if n == 1 else 's'}"


def sign_in(page: Any, hub: dict[str, Any]) -> None:
    page.goto(hub["dashboard_url"])
    page.get_by_label("API key", exact=True).fill(hub["demo"]["api_key"])
    page.get_by_role("button", name="Open dashboard").click()
    settled(page)


def settled(page: Any) -> None:
    page.wait_for_selector("#service-chart svg")
    page.wait_for_selector("body[data-loading=false]")


def choose(page: Any, period: str | None = None, compare: str | None = None) -> None:
    with page.expect_response(lambda r: "/v1/dashboard/overview" in r.url):
        if period:
            page.select_option("#period", period)
        if compare:
            page.select_option("#compare", compare)
    settled(page)


def assert_shows(page: Any, overview: Any, service: Any, aov: Any, *, compared: bool) -> None:
    """The page shows exactly these API answers (tiles, charts, totals, captions)."""

    caption = page.locator("#period-caption")
    assert caption.get_attribute("data-start") == overview["period"]["start"]
    assert caption.get_attribute("data-end") == overview["period"]["end"]
    assert overview["period"]["timezone"] in caption.inner_text()
    if compared:
        comparison = overview["comparison"]
        assert caption.get_attribute("data-comparison-start") == comparison["start"]
        assert en_range(comparison["start"], comparison["end"]) in caption.inner_text()
    tile = page.locator(".tile[data-metric=total_accounts] .value")
    assert tile.inner_text() == count(overview["total_accounts"]["value"])
    for metric in METRICS:
        figures = overview[metric]
        fmt = money if metric == "revenue_generated" else count
        tile = page.locator(f".tile[data-metric={metric}]")
        assert tile.locator(".value").inner_text() == fmt(figures["value"]), metric
        shown = tile.locator(".change")
        if compared:
            line = comparison_line(figures, overview["comparison"], fmt)
            assert shown.inner_text() == line, metric
            colour = "empty" if line.startswith("No data") else change(figures["change_pct"])[1]
            assert (shown.get_attribute("class") or "").split() == [
                "change",
                *[colour] * bool(colour),
            ]
        else:
            assert shown.inner_text() == ""

    for kind in SERVICE_TYPES:
        bars = page.locator(f"#service-chart g[data-series={kind}] rect")
        values = [int(v) for v in bars.evaluate_all("cs => cs.map(c => c.dataset.value)")]
        assert values == [point.get(kind, 0) for point in service["series"]], kind
        row = page.locator(f"#service-totals tr[data-type={kind}]")
        assert row.locator(".total").inner_text() == count(service["totals"][kind])
        previous = count(service["previous_totals"][kind]) if compared else "—"
        assert row.locator(".previous").inner_text() == previous

    assert page.locator("#aov-value").inner_text() == money(aov["value"])
    assert page.locator("#aov-orders").inner_text() == orders(aov["orders"])
    if compared:
        line = comparison_line(aov, aov["comparison"], money)
        assert page.locator("#aov-change").inner_text() == line
    dots = page.locator("#aov-chart circle")
    shown_aov = [Decimal(v) for v in dots.evaluate_all("cs => cs.map(c => c.dataset.value)")]
    assert shown_aov == [Decimal(p["aov"]["amount"]) for p in aov["series"] if p["aov"]]
