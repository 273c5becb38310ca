"""The drawer on a Shopify theme (SPEC §9), in Chromium against `hub dev`.

The page is what the theme renders: web/shopify/snippets/customer-hub.liquid through a real
Liquid engine (tests/support/theme.py), with the merchant's customer_token_secret in the shop
metafield, for a logged-in customer or a guest. It is served on hub dev's origin, so the drawer
talks to the API as it would from the store's own domain.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import screenshot
from tests.browser.drawer_helpers import FOR_YOU, hub_api, needs_state, points, token_for
from tests.support.theme import render_theme

THEME_HEADER = """<header>
  <a id="account" href="#account-page" data-customer-hub-open>Account</a>
  <button id="rewards" type="button" data-customer-hub-open="rewards">My rewards</button>
  <button id="coupons" type="button" data-customer-hub-open="coupons">My coupons</button>
</header>"""
TITLE = "customer-hub #hub-title"


def _render_args(hub: dict[str, Any], merchant_id: str, launcher: str | None = None) -> str:
    args = (
        f"merchant_id: '{merchant_id}', api_base: '{hub['url']}', "
        f"script_url: '{hub['url']}/storefront/customer-hub.js'"
    )
    return args + (f", launcher: '{launcher}'" if launcher else "")


def _serve(page: Any, hub: dict[str, Any], html: str) -> str:
    """Serve the rendered theme page on hub dev's origin; returns its URL."""
    url = f"{hub['url']}/theme/{uuid.uuid4().hex}"
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    return url


def _theme_page(
    page: Any,
    hub: dict[str, Any],
    *,
    merchant_id: str,
    secret: str | None,
    customer: dict[str, Any] | None,
    launcher: str | None = None,
    locale: str = "en",
) -> list[dict[str, Any]]:
    """Open the theme page; returns the POST /session bodies the drawer sends (live list)."""
    sessions: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda request: (
            sessions.append(json.loads(request.post_data))
            if request.method == "POST" and request.url.endswith("/hub/session")
            else None
        ),
    )
    html = render_theme(
        THEME_HEADER,
        secret=secret,
        customer=customer,
        render_args=_render_args(hub, merchant_id, launcher),
        locale=locale,
    )
    with page.expect_response(re.compile(r"/hub/loyalty$")):
        page.goto(_serve(page, hub, html))
    return sessions


@pytest.fixture
def demo(hub: dict[str, Any]) -> dict[str, Any]:
    return dict(hub["demo"])


def _customer(shopper: dict[str, Any]) -> dict[str, Any]:
    return {"id": int(shopper["customer_id"]), "email": shopper["email"]}


# ---------------------------------------------------------------- 2. the snippet
def test_a_logged_in_member_sees_their_balance_through_the_signed_snippet(
    page: Any, hub: dict[str, Any], http: httpx.Client, demo: dict[str, Any]
) -> None:
    member = needs_state(http, "member")
    expected = hub_api(http, hub, "/loyalty", token_for(http, member))
    sessions = _theme_page(
        page,
        hub,
        merchant_id=demo["merchant_id"],
        secret=demo["customer_token_secret"],
        customer=_customer(member),
    )
    element = page.locator("customer-hub")
    assert element.get_attribute("customer-token") is None, "no JWT in the theme"
    assert element.get_attribute("customer-id") == member["customer_id"]
    assert re.fullmatch(r"[0-9a-f]{64}", element.get_attribute("signature") or "")
    page.click("customer-hub .launcher")
    balance = page.locator(f"{FOR_YOU} [data-testid=balance]")
    assert balance.inner_text() == points(expected["points_balance"], expected["points_label"])
    assert len(sessions) == 1, "one exchange for the page"
    assert sessions[0]["customer_id"] == member["customer_id"]
    assert sessions[0]["email"] == member["email"]
    screenshot(page, "shopify-theme-member")
    assert page.page_errors == []


@pytest.mark.parametrize("locale", ["pl", "pt-BR"])
def test_the_theme_passes_the_storefront_language_to_the_drawer(
    page: Any, hub: dict[str, Any], http: httpx.Client, demo: dict[str, Any], locale: str
) -> None:
    member = needs_state(http, "member")
    _theme_page(
        page, hub, merchant_id=demo["merchant_id"], secret=demo["customer_token_secret"],
        customer=_customer(member), locale=locale,
    )  # fmt: skip
    assert page.locator("customer-hub").get_attribute("lang") == locale
    with page.expect_request(re.compile(r"/hub/loyalty$")) as asked:
        page.click("customer-hub .launcher")
    assert asked.value.headers["accept-language"] == locale
    title = {"pl": "Dla Ciebie", "pt-BR": "Para você"}[locale]
    assert page.locator(TITLE).inner_text() == title


def test_a_guest_gets_no_signature_and_sees_the_login_prompt(
    page: Any, hub: dict[str, Any], demo: dict[str, Any]
) -> None:
    sessions = _theme_page(
        page, hub, merchant_id=demo["merchant_id"], secret=demo["customer_token_secret"],
        customer=None,
    )  # fmt: skip
    element = page.locator("customer-hub")
    for name in ("customer-id", "customer-email", "issued-at", "signature"):
        assert element.get_attribute(name) is None, name
    page.click("customer-hub .launcher")
    card = page.locator(f"{FOR_YOU} [data-state=login_required]")
    assert "Log in to see your points and rewards" in card.inner_text()
    assert card.locator("a").get_attribute("href") == "/account/login"
    assert sessions == []
    assert page.page_errors == []


def test_the_token_is_exchanged_again_before_it_expires(
    page: Any, hub: dict[str, Any], http: httpx.Client, demo: dict[str, Any]
) -> None:
    member = needs_state(http, "member")
    page.clock.install()
    sessions = _theme_page(
        page, hub, merchant_id=demo["merchant_id"], secret=demo["customer_token_secret"],
        customer=_customer(member),
    )  # fmt: skip
    page.click("customer-hub .launcher")
    page.wait_for_selector(f"{FOR_YOU} [data-state=member]")
    assert len(sessions) == 1
    page.clock.fast_forward("50:00")  # 10 minutes left: still used
    page.click("customer-hub [data-action=go][data-page=rewards]")
    page.wait_for_selector(f"{FOR_YOU} [data-reward], {FOR_YOU} [data-locked]")
    assert len(sessions) == 1
    page.clock.fast_forward("06:00")  # under 5 minutes left: exchanged again first
    with page.expect_response(re.compile(r"/hub/coupons$")) as coupons:
        page.click("customer-hub [data-testid=coupons-link]")  # on the Rewards page
    assert coupons.value.status == 200
    assert len(sessions) == 2, "a fresh token before the old one expired"
    assert page.page_errors == []


def test_a_given_customer_token_still_works(
    page: Any, hub: dict[str, Any], http: httpx.Client, demo: dict[str, Any]
) -> None:
    member = needs_state(http, "member")
    token = token_for(http, member)
    expected = hub_api(http, hub, "/loyalty", token)
    html = (
        f'<script type="module" src="{hub["url"]}/storefront/customer-hub.js"></script>'
        f'<customer-hub api-base="{hub["url"]}" merchant-id="{demo["merchant_id"]}" '
        f'customer-token="{token}"></customer-hub>'
    )
    page.goto(_serve(page, hub, html))
    page.click("customer-hub .launcher")
    balance = page.locator(f"{FOR_YOU} [data-testid=balance]")
    assert balance.inner_text() == points(expected["points_balance"], expected["points_label"])


# ---------------------------------------------------------------- 5. hub status
@pytest.fixture
def not_live(http: httpx.Client) -> Iterator[dict[str, dict[str, Any]]]:
    def create() -> dict[str, Any]:
        body = {
            "name": "Quiet Shop",
            "shop_domain": f"quiet-{uuid.uuid4().hex[:8]}.myshopify.com",
            "timezone": "UTC",
            "currency": "USD",
        }
        created = http.post("/_local/merchants", json=body)
        assert created.status_code == 201, created.text
        return dict(created.json())

    fresh, disabled = create(), create()
    auth = {"Authorization": f"Bearer {disabled['api_key']}"}
    for status in ("live", "disabled"):
        answer = http.patch("/v1/admin/settings", headers=auth, json={"hub_status": status})
        assert answer.status_code == 200, answer.text
    yield {"not_launched": fresh, "disabled": disabled}


@pytest.mark.parametrize("status", ["not_launched", "disabled"])
def test_the_drawer_renders_nothing_unless_the_hub_is_live(
    page: Any, hub: dict[str, Any], not_live: dict[str, dict[str, Any]], status: str
) -> None:
    merchant = not_live[status]
    _theme_page(
        page, hub, merchant_id=merchant["merchant_id"],
        secret=merchant["customer_token_secret"], customer={"id": 7001, "email": "a@example.com"},
    )  # fmt: skip
    page.wait_for_timeout(300)  # the answer is rendered
    shadow = page.evaluate("document.querySelector('customer-hub').shadowRoot.innerHTML")
    assert shadow == "", "no launcher, no drawer"
    page.click("#account")
    page.wait_for_timeout(200)
    assert page.evaluate("location.hash") == "#account-page", "the theme's own link still works"
    assert page.locator("customer-hub .drawer").count() == 0


def test_the_launcher_appears_when_the_hub_is_live(
    page: Any, hub: dict[str, Any], demo: dict[str, Any]
) -> None:
    _theme_page(page, hub, merchant_id=demo["merchant_id"], secret=None, customer=None)
    # The launcher appears once the hub's status has been read (an async request after load):
    # wait for it, within the context's default timeout, rather than look once.
    page.locator("customer-hub .launcher").wait_for(state="visible")
    assert page.locator("customer-hub .launcher").is_visible()


# ---------------------------------------------------------------- 6. how the drawer opens
def test_theme_elements_open_the_drawer_on_their_page_without_a_launcher(
    page: Any, hub: dict[str, Any], http: httpx.Client, demo: dict[str, Any]
) -> None:
    member = needs_state(http, "member")
    _theme_page(
        page, hub, merchant_id=demo["merchant_id"], secret=demo["customer_token_secret"],
        customer=_customer(member), launcher="none",
    )  # fmt: skip
    page.wait_for_timeout(300)
    assert page.locator("customer-hub .launcher").count() == 0, 'launcher="none"'

    page.click("#account")
    assert page.locator(TITLE).inner_text() == "For you"
    page.wait_for_selector(f"{FOR_YOU} [data-state=member]")
    assert page.evaluate("location.hash") == "", "the drawer opened instead of the account page"
    page.keyboard.press("Escape")
    assert page.locator("customer-hub .drawer").count() == 0
    assert page.evaluate("document.activeElement.id") == "account", "focus back on the opener"

    page.click("#rewards")
    assert page.locator(TITLE).inner_text() == "Rewards"
    page.wait_for_selector(f"{FOR_YOU} [data-testid=balance]")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "rewards"
    page.click("#coupons")
    assert page.locator(TITLE).inner_text() == "Coupons"
    page.wait_for_selector(f"{FOR_YOU} [data-testid=available-count]")
    assert page.page_errors == []


def test_a_guest_opening_rewards_is_asked_to_log_in(
    page: Any, hub: dict[str, Any], demo: dict[str, Any]
) -> None:
    _theme_page(page, hub, merchant_id=demo["merchant_id"], secret=None, customer=None)
    page.click("#rewards")
    assert page.locator(TITLE).inner_text() == "For you"
    page.wait_for_selector(f"{FOR_YOU} [data-state=login_required]")
