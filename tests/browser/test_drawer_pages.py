"""Every page of the drawer in en, pl and pt-BR, in real Chromium against `hub dev`: axe-core
finds no serious or critical violation, and the pictures of docs/screenshots/ are taken here
(`scripts/screenshots`). This file sorts before the tests that redeem the demo member's points,
so the pictures show the demo program as seeded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import PHONE, new_context, screenshot, serious_accessibility_violations
from tests.browser.drawer_helpers import FOR_YOU, needs_state


def _rewards_with_slider(page: Any) -> None:
    page.click(f"{FOR_YOU} [data-testid=balance]")
    page.wait_for_selector("customer-hub #redeem-title")
    slider = page.locator("customer-hub input[type=range]").first
    slider.focus()
    page.keyboard.press("ArrowRight")
    slider.scroll_into_view_if_needed()


def _coupons(page: Any) -> None:
    page.click(f"{FOR_YOU} [data-testid=balance]")
    page.wait_for_selector("customer-hub #redeem-title")
    page.click("customer-hub [data-testid=coupons-link]")
    page.wait_for_selector("customer-hub [data-testid=available-count]")


DOC_VIEWS = {
    "member": ("member", None),
    "join": ("join", None),
    "guest": ("login_required", None),
    "rewards": ("member", _rewards_with_slider),
    "coupons": ("member", _coupons),
}


@pytest.mark.parametrize("language", ["en", "pl", "pt-BR"])
@pytest.mark.parametrize("view", list(DOC_VIEWS))
def test_each_drawer_page_has_no_serious_accessibility_violation_and_is_pictured(
    browser: Any, hub: dict[str, Any], http: httpx.Client, view: str, language: str
) -> None:
    state, then = DOC_VIEWS[view]
    needs_state(http, state)
    context = new_context(browser, PHONE)
    try:
        page = context.new_page()
        page.goto(f"{hub['storefront_url']}?state={state}")
        page.wait_for_selector("body[data-ready=true]")
        page.locator("customer-hub").evaluate(
            "(hub, lang) => hub.setAttribute('lang', lang)", language
        )
        page.click("customer-hub .launcher")
        page.wait_for_selector(f"{FOR_YOU} [data-state]", state="attached")
        if then is not None:
            then(page)
        page.wait_for_load_state("networkidle")
        assert serious_accessibility_violations(page) == []
        suffix = "" if language == "en" else f"-{language}"
        if language == "en" or (view, language) in {("member", "pl"), ("rewards", "pt-BR")}:
            screenshot(page, f"docs-drawer-{view}{suffix}")
        else:
            screenshot(page, f"drawer-{view}{suffix}")
    finally:
        context.close()
