"""The drawer in English, Brazilian Portuguese and Polish (issue 17, point 4), in real Chromium
against `hub dev`: which language it picks, that it asks the server for its texts in that
language, that no English interface string is left, and numbers, money and dates per locale
(Babel, the server's formatter, is the independent oracle)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
import pytest
from babel.dates import format_date

from customer_hub.loyalty import texts
from tests.browser.conftest import new_context
from tests.browser.drawer_helpers import FOR_YOU, hub_api, needs_state, token_for

BABEL = {"en": "en_US", "pt-BR": "pt_BR", "pl": "pl_PL"}

# Every visible text, and the aria-label / title / alt / placeholder / aria-valuetext of every
# element, of the drawer's shadow root.
COLLECT = """hub => {
  const root = hub.shadowRoot, found = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest("style")) continue;
    if (parent.closest("[hidden]") || !parent.getClientRects().length) continue;
    if (node.textContent.trim()) found.push(node.textContent.trim());
  }
  for (const e of root.querySelectorAll("*"))
    for (const a of ["aria-label", "title", "alt", "placeholder", "aria-valuetext"])
      if (e.getAttribute(a)) found.push(e.getAttribute(a));
  return found;
}"""

# The English catalogue's literal fragments (placeholders removed), read from the module itself.
ENGLISH = """async () => {
  const { MESSAGES } = await import("./customer-hub.js");
  const all = [];
  for (const [key, message] of Object.entries(MESSAGES.en))
    for (const text of typeof message === "object" ? Object.values(message) : [message])
      all.push({ key, text });
  return all;
}"""


def open_as(page: Any, hub: dict[str, Any], state: str, language: str | None) -> None:
    page.goto(f"{hub['storefront_url']}?state={state}")
    page.wait_for_selector("body[data-ready=true]")
    if language:
        page.locator("customer-hub").evaluate("(h, l) => h.setAttribute('lang', l)", language)
    page.click("customer-hub .launcher")
    page.wait_for_selector(f"{FOR_YOU} [data-state]", state="attached")


def merchant_words(http: httpx.Client, hub: dict[str, Any], token: str | None) -> list[str]:
    """What the merchant wrote in Smile (names, labels, descriptions), shown as written."""
    words: list[str] = []
    if token is None:
        return words
    loyalty = hub_api(http, hub, "/loyalty", token)
    rewards = hub_api(http, hub, "/rewards", token)
    coupons = hub_api(http, hub, "/coupons", token)
    words += loyalty["points_label"].values()
    for tier in (loyalty["vip_tier"], loyalty["next_vip_tier"]):
        if tier:
            words.append(tier["name"])
    for reward in rewards["redeemable"] + rewards["locked"] + loyalty["rewards_preview"]:
        words += [
            reward["name"],
            reward.get("description") or "",
            reward.get("exchange_description") or "",
        ]
    for way in rewards["ways_to_earn"] + loyalty["ways_to_earn"]:
        words += [way["name"], way.get("action_text") or ""]
    for coupon in coupons["applied"] + coupons["available"]:
        words += [coupon["name"], coupon.get("usage_instructions") or "", coupon.get("code") or ""]
    return sorted({w for w in words if w}, key=len, reverse=True)


def english_fragments(page: Any) -> list[tuple[str, str]]:
    fragments = []
    for entry in page.evaluate(ENGLISH):
        for piece in re.split(r"\{\w+\}", entry["text"]):
            piece = piece.strip(" .,:;()·—–…!?←✕")
            if len(piece) >= 2 and re.search(r"[A-Za-z]{2}", piece):
                fragments.append((entry["key"], piece))
    return fragments


def visit(page: Any, hub: dict[str, Any], state: str, language: str, where: str) -> list[str]:
    open_as(page, hub, state, language)
    if where in ("rewards", "coupons"):
        page.click(f"{FOR_YOU} [data-testid=balance]")
        page.wait_for_selector("customer-hub #redeem-title")
        page.click("customer-hub #ways summary")
        page.locator("customer-hub input[type=range]").first.focus()
        page.keyboard.press("ArrowRight")
    if where == "coupons":
        page.click("customer-hub [data-testid=coupons-link]")
        page.wait_for_selector("customer-hub [data-testid=available-count]")
    if where == "join":
        page.click(f"{FOR_YOU} [data-action=join]")
    return list(page.locator("customer-hub").evaluate(COLLECT))


@pytest.mark.parametrize("language", ["pl", "pt-BR"])
def test_no_english_interface_string_in_a_polish_or_portuguese_drawer(
    page: Any, hub: dict[str, Any], http: httpx.Client, language: str
) -> None:
    member = token_for(http, needs_state(http, "member"))
    join = token_for(http, needs_state(http, "join"))
    seen: dict[str, list[str]] = {
        "home": visit(page, hub, "member", language, "home"),
        "rewards": visit(page, hub, "member", language, "rewards"),
        "coupons": visit(page, hub, "member", language, "coupons"),
        "guest": visit(page, hub, "login_required", language, "home"),
        "join": visit(page, hub, "join", language, "join"),
    }
    fragments = english_fragments(page)
    assert len(fragments) > 60, "the English catalogue was read"
    merchant = merchant_words(http, hub, member) + merchant_words(http, hub, join)
    left: list[str] = []
    for where, found in seen.items():
        assert found, f"nothing collected on {where}"
        for text in found:
            rest = text
            for word in merchant:
                rest = rest.replace(word, " ")
            for key, piece in fragments:
                if re.search(rf"(?<![\w]){re.escape(piece)}(?![\w])", rest):
                    left.append(f"{where}: {text!r} has English {piece!r} ({key})")
    assert left == []
    # The server's texts came in the drawer's language too.
    loyalty = hub_api(http, hub, "/loyalty", member)
    assert loyalty["best_reward"]["text"].startswith("Redeem"), "the API's default is English"
    home = " ".join(seen["home"])
    assert ("Wymień" if language == "pl" else "Resgate") in home
    assert ("Brakuje" if language == "pl" else "Faltam") in home


def test_the_language_is_the_lang_attribute_else_the_page_else_the_browser(
    browser: Any, hub: dict[str, Any], http: httpx.Client
) -> None:
    needs_state(http, "member")
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{hub['storefront_url']}?state=member")
        page.wait_for_selector("body[data-ready=true]")
        hub_element = page.locator("customer-hub")
        title = page.locator("customer-hub #hub-title")
        languages: list[str] = []
        page.on(
            "request",
            lambda r: (
                languages.append(r.headers.get("accept-language", ""))
                if "/hub/loyalty" in r.url
                else None
            ),
        )

        page.click("customer-hub .launcher")
        title.wait_for()
        assert title.inner_text() == "For you", "<html lang=en> of the demo storefront"

        page.evaluate("document.documentElement.lang = 'pl-PL'")
        hub_element.evaluate("h => { h.close(); h.open(); }")
        page.wait_for_selector(f"{FOR_YOU} [data-state=member]")
        assert title.inner_text() == "Dla Ciebie", "the page's lang when the element has none"

        hub_element.evaluate("h => h.setAttribute('lang', 'pt-BR')")
        page.wait_for_selector(f"{FOR_YOU} [data-state=member]")
        assert title.inner_text() == "Para você", "the element's lang wins"
        assert languages[-1] == "pt-BR" and "pl" in languages, languages

        hub_element.evaluate("h => h.setAttribute('lang', 'de')")
        page.evaluate("document.documentElement.removeAttribute('lang')")
        hub_element.evaluate("h => { h.close(); h.open(); }")
        page.wait_for_selector(f"{FOR_YOU} [data-state=member]")
        browser_language = page.evaluate("navigator.language")
        expected = {"pl": "Dla Ciebie", "pt": "Para você"}.get(browser_language[:2], "For you")
        assert title.inner_text() == expected, f"the browser's ({browser_language})"
    finally:
        context.close()


def test_a_polish_browser_without_any_lang_gets_polish(browser: Any, hub: dict[str, Any]) -> None:
    context = browser.new_context(locale="pl-PL")
    context.route(lambda url: not url.startswith("http://127.0.0.1:"), lambda route: route.abort())
    try:
        page = context.new_page()
        page.goto(f"{hub['storefront_url']}?state=login_required")
        page.wait_for_selector("body[data-ready=true]")
        page.evaluate("document.documentElement.removeAttribute('lang')")
        page.locator("customer-hub").evaluate("h => h.open()")
        page.wait_for_selector(f"{FOR_YOU} [data-state]", state="attached")
        assert "Zaloguj się, aby zobaczyć swoje punkty i nagrody." in page.inner_text(FOR_YOU)
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "pt-BR", "pl"])
def test_numbers_money_and_dates_follow_the_locale(
    page: Any, hub: dict[str, Any], http: httpx.Client, language: texts.Language
) -> None:
    token = token_for(http, needs_state(http, "member"))
    rewards = hub_api(http, hub, "/rewards", token)
    coupons = hub_api(http, hub, "/coupons", token)
    label = rewards["points_label"]
    locked = max(rewards["locked"], key=lambda r: r["points_needed"])
    assert locked["points_needed"] >= 1000, "a four-digit figure to format"

    open_as(page, hub, "member", language)
    page.click(f"{FOR_YOU} [data-testid=balance]")
    page.wait_for_selector("customer-hub #redeem-title")
    shown = page.locator(f"customer-hub [data-locked='{locked['points_product_id']}']")
    english = f"{locked['points_needed']:,}"
    # CLDR: "1,150" (en), "1.150" (pt-BR); Polish groups only from five digits ("1150").
    grouped = {"en": english, "pt-BR": english.replace(",", "."), "pl": english.replace(",", "")}
    assert f"{grouped[language]} {label['other']}" in shown.inner_text().replace("\xa0", " ")

    variable = next(r for r in rewards["redeemable"] if r["exchange_type"] == "variable")
    value = page.locator(f"customer-hub #value-{variable['points_product_id']}").inner_text()
    step = variable["variable"]["step_value"]
    worth = texts.money(language, step["amount"], step["currency"])
    assert worth.replace("\xa0", " ") in value.replace("\xa0", " ")

    dated = [c for c in coupons["available"] + coupons["applied"] if c["expires_at"] and c["code"]]
    if not dated:
        pytest.fail("the demo member has no coupon with an expiry date")
    page.click("customer-hub [data-testid=coupons-link]")
    page.wait_for_selector("customer-hub [data-testid=available-count]")
    coupon = dated[0]
    expires = datetime.fromisoformat(coupon["expires_at"].replace("Z", "+00:00"))
    expected = format_date(expires, "medium", locale=BABEL[language])
    item = page.locator(f"customer-hub [data-coupon='{coupon['id']}'] [data-testid=expires]")
    assert expected.replace("\xa0", " ") in item.inner_text().replace("\xa0", " ")
