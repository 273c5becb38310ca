"""What the drawer says and where it leads (issue 17, point 3), in real Chromium against
`hub dev`: VIP progress with its unit, the recommended reward with its value, a variable
reward's range, the Rewards page in the seed's order, every loyalty element opening it, the
help click reported with keepalive (screenshots and axe-core: test_drawer_pages.py)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.browser.conftest import screenshot
from tests.browser.drawer_helpers import FOR_YOU, hub_api, needs_state, open_drawer, token_for


def dollars(amount: str) -> str:
    """What Intl writes for a USD amount in en: "$3" (whole), "$2.50"."""
    value = Decimal(amount)
    return f"${value:.0f}" if value == value.to_integral_value() else f"${value:.2f}"


def member_loyalty(http: httpx.Client, hub: dict[str, Any]) -> dict[str, Any]:
    return dict(hub_api(http, hub, "/loyalty", token_for(http, needs_state(http, "member"))))


def test_vip_progress_names_its_unit_and_the_best_reward_its_value(
    page: Any, hub: dict[str, Any], http: httpx.Client
) -> None:
    loyalty = member_loyalty(http, hub)
    vip = loyalty["next_vip_tier"]
    label = loyalty["points_label"]["other"]
    assert vip["metric"] == "points_earned", "the demo program's tiers count points earned"
    needed = int(vip["amount_needed"])
    assert vip["text"] == f"{needed:,} {label} to {vip['name']}"
    best = loyalty["best_reward"]
    assert best["exchange_type"] == "fixed", "a fixed reward the shopper can afford comes first"
    affordable_fixed = [r for r in loyalty["rewards_preview"] if r["exchange_type"] == "fixed"]
    assert best["points_price"] == max(r["points_price"] for r in affordable_fixed)

    open_drawer(page, hub, "member")
    shown = page.locator(f"{FOR_YOU} [data-testid=vip-progress]")
    assert shown.locator("p").inner_text() == f"{needed:,} {label} to {vip['name']}"
    bar = shown.locator("[role=progressbar]")
    assert bar.get_attribute("aria-label") == f"Progress to {vip['name']}"
    assert bar.get_attribute("aria-valuenow") == str(vip["percent"])
    width = bar.locator("span").evaluate("e => e.style.width")
    assert width == f"{vip['percent']}%"
    assert page.locator(f"{FOR_YOU} [data-testid=best-reward]").inner_text() == best["text"]
    assert best["text"] == f"Redeem {best['points_price']:,} {label} for {best['name']}"

    variable = next(r for r in loyalty["rewards_preview"] if r["exchange_type"] == "variable")
    spend = variable["variable"]
    item = page.locator(f"{FOR_YOU} [data-preview='{variable['points_product_id']}']")
    low, high = dollars(spend["min_value"]["amount"]), dollars(spend["max_value"]["amount"])
    expected = f"{spend['min']:,}–{spend['max']:,} {label} · {low}–{high}"
    if spend["min"] == spend["max"]:  # a balance that affords the minimum only
        expected = f"{spend['min']:,} {label} · {low}"
    assert item.inner_text() == f"{variable['name']} · {expected}"
    screenshot(page, "drawer-vip-best-reward")


@pytest.mark.parametrize(
    "element",
    ["tier", "balance", "vip-progress", "best-reward", "next-reward", "coupons-preview"],
)
def test_every_loyalty_element_opens_the_rewards_page(
    page: Any, hub: dict[str, Any], http: httpx.Client, element: str
) -> None:
    needs_state(http, "member")
    open_drawer(page, hub, "member")
    target = page.locator(f"{FOR_YOU} [data-testid={element}]")
    if not target.count():
        pytest.fail(f"the demo member's card shows no {element}")
    target.click()
    page.wait_for_selector("customer-hub #redeem-title")
    assert page.locator("customer-hub #hub-title").inner_text() == "Rewards"


def test_a_preview_item_and_the_progress_bar_open_the_rewards_page_too(
    page: Any, hub: dict[str, Any], http: httpx.Client
) -> None:
    needs_state(http, "member")
    for selector in (f"{FOR_YOU} [data-preview]", f"{FOR_YOU} .bar.reward"):
        open_drawer(page, hub, "member")
        page.locator(selector).first.click()
        page.wait_for_selector("customer-hub #redeem-title")


def test_the_rewards_page_follows_the_seeds_order(
    page: Any, hub: dict[str, Any], http: httpx.Client
) -> None:
    """Seed (pt): redeemable rewards, then the coupon preview, then the referral link and the
    expandable "Ways to earn" below them."""
    token = token_for(http, needs_state(http, "member"))
    rewards = hub_api(http, hub, "/rewards", token)
    open_drawer(page, hub, "member")
    page.click(f"{FOR_YOU} [data-testid=balance]")
    page.wait_for_selector("customer-hub #redeem-title")
    order = [
        "#redeem-title",
        "#locked-title",
        "[data-testid=rewards-coupons]",
        ".referral",
        "#ways",
    ]
    tops = [page.locator(f"customer-hub {selector}").bounding_box()["y"] for selector in order]
    assert tops == sorted(tops), dict(zip(order, tops, strict=True))
    available = len([c for c in rewards["coupons"]["available"] if c["code"]])
    preview = page.locator("customer-hub [data-testid=rewards-coupons]")
    assert f"{available} coupon{'' if available == 1 else 's'} available" in preview.inner_text()
    assert page.locator("customer-hub #referral").input_value() == rewards["referral_url"]
    preview.get_by_role("button").click()
    page.wait_for_selector("customer-hub [data-testid=available-count]")


def test_the_help_click_is_sent_with_keepalive_before_the_page_navigates(
    page: Any, hub: dict[str, Any], http: httpx.Client
) -> None:
    """A plain fetch from a link that navigates away is usually dropped; keepalive survives.
    The request is recorded across the navigation, and the dashboard counts the click."""
    needs_state(http, "member")
    api_key = {"Authorization": f"Bearer {hub['demo']['api_key']}"}
    interactions = "/v1/dashboard/service-interactions?period=today&compare=none"

    def help_clicks() -> int:
        assert http.post("/_local/drain").status_code == 200
        reply = http.get(interactions, headers=api_key)
        assert reply.status_code == 200, reply.text
        return int(reply.json()["totals"]["help_clicked"])

    before = help_clicks()
    page.add_init_script(
        """(() => { const send = window.fetch;
             window.fetch = (url, init = {}) => {
               if (String(url).endsWith("/events")) {
                 const sent = JSON.parse(sessionStorage.getItem("sent-events") || "[]");
                 sent.push({keepalive: init.keepalive === true, body: init.body});
                 sessionStorage.setItem("sent-events", JSON.stringify(sent));
               }
               return send(url, init);
             }; })()"""
    )
    open_drawer(page, hub, "member")
    page.wait_for_load_state("networkidle")
    away = f"{hub['storefront_url']}?state=member&from=help"
    page.locator("customer-hub").evaluate("(hub, url) => hub.setAttribute('help-url', url)", away)
    page.locator("customer-hub").evaluate("hub => hub.open('rewards')")
    page.wait_for_selector("customer-hub #redeem-title")
    with page.expect_navigation(url=re.compile("from=help")):
        page.locator("customer-hub a[data-action=help]").click()
    sent = json.loads(page.evaluate("sessionStorage.getItem('sent-events')"))
    helps = [s for s in sent if '"help_clicked"' in s["body"]]
    assert len(helps) == 1 and helps[0]["keepalive"] is True
    deadline = 0
    while help_clicks() < before + 1 and deadline < 20:
        page.wait_for_timeout(250)
        deadline += 1
    assert help_clicks() == before + 1, "the dashboard counts the help click"
