"""The dashboard in English, Brazilian Portuguese and Polish, in real Chromium: the browser's
language by default, a remembered picker, Intl formatting per locale, CLDR plurals, and no
English interface text left in a pl or pt-BR page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import new_context, screenshot, serious_accessibility_violations
from tests.browser.dashboard_helpers import settled
from tests.browser.test_dashboard_rendering import serve

NBSP = "\u00a0"
BRAND = "Customer Hub"  # the product's name, the same in every language

# Every visible text node, every option of a visible select, the accessible texts in attributes
# and SVG <title>s of the page; the language picker's own names (marked with their `lang`) and
# the shop's data (product titles, emails: marked translate="no") aside.
SHOWN_TEXTS = """() => {
  const lang = document.documentElement.lang;
  const foreign = (el) => {
    const marked = el.closest("[lang]");
    return (marked && marked.lang !== lang) || el.closest("[translate=no]");
  };
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || foreign(el)) continue;
    const option = el.closest("option");
    const visible = option ? option.parentElement.checkVisibility() : el.closest("svg title")
      ? el.closest("svg").checkVisibility() : el.checkVisibility();
    if (visible) texts.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
    if (foreign(el) || !(el.checkVisibility() || el.matches("dialog[open] *"))) continue;
    for (const name of ["aria-label", "title", "placeholder", "alt"]) {
      if (el.getAttribute(name)) texts.push(el.getAttribute(name));
    }
  }
  return texts;
}"""

# The English catalog's texts cut at their placeholders, and the keys the page's own catalog lacks.
ENGLISH_PIECES = """async () => {
  const { CATALOGS } = await import("./i18n.js");
  const own = CATALOGS[document.documentElement.lang];
  const forms = (value) => (typeof value === "object" ? Object.values(value) : [value]);
  const pieces = new Set();
  for (const value of Object.values(CATALOGS.en)) {
    for (const form of forms(value)) {
      for (const raw of form.split(/\\{\\w+\\}/)) {
        const piece = raw.replace(/^[\\s·:,.()—–]+|[\\s·:,.()—–]+$/g, "");
        if (/\\p{L}{3}/u.test(piece)) pieces.add(piece);
      }
    }
  }
  return { pieces: [...pieces], missing: Object.keys(CATALOGS.en).filter((key) => !(key in own)) };
}"""
# Words the language shares with English: Brazilian merchants say "hub", and "Total" is Portuguese.
SHARED = {"pt-BR": {"hub", "Total"}, "pl": set()}


def english_left(page: Any) -> list[str]:
    catalog = page.evaluate(ENGLISH_PIECES)
    assert catalog["missing"] == [], "every English key is translated"
    pieces = set(catalog["pieces"]) - SHARED[page.evaluate("document.documentElement.lang")]
    found = []
    for shown in page.evaluate(SHOWN_TEXTS):
        text = shown.replace(BRAND, "")
        for piece in sorted(pieces):
            if re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", text):
                found.append(f"{piece!r} in {shown!r}")
    return found


@pytest.fixture
def localized(browser: Any, request: Any) -> Iterator[Any]:
    """A page in a browser whose language is `request.param`."""
    made = new_context(browser, locale=request.param)
    opened = made.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.page_errors = errors
    yield opened
    made.close()


def sign_in_as_demo(page: Any, hub: dict[str, Any]) -> None:
    page.goto(hub["dashboard_url"])
    page.locator("#api-key").fill(hub["demo"]["api_key"])
    page.locator("#key-form button[type=submit]").click()
    settled(page)


@pytest.mark.parametrize("localized", ["pt-BR"], indirect=True)
def test_browser_language_is_the_default_and_the_picker_is_remembered(
    localized: Any, hub: dict[str, Any]
) -> None:
    page = localized
    page.goto(hub["dashboard_url"])
    assert page.evaluate("document.documentElement.lang") == "pt-BR"
    assert page.get_by_role("button", name="Abrir o painel").is_visible()
    page.get_by_label("Chave de API").fill(hub["demo"]["api_key"])
    page.get_by_role("button", name="Abrir o painel").click()
    settled(page)
    assert page.get_by_role("heading", name="Valor médio do pedido").is_visible()

    page.get_by_label("Idioma").select_option("pl")
    assert page.evaluate("document.documentElement.lang") == "pl"
    assert page.get_by_role("heading", name="Średnia wartość zamówienia").is_visible()
    assert page.get_by_role("link", name="Ustawienia").is_visible()
    page.reload()
    settled(page)
    assert page.evaluate("document.documentElement.lang") == "pl", "the choice is remembered"
    assert page.get_by_label("Język").input_value() == "pl"
    assert page.page_errors == []


@pytest.mark.parametrize("localized", ["pl-PL", "pt-BR"], indirect=True)
def test_no_english_interface_string_in_a_polish_or_portuguese_dashboard(
    localized: Any, hub: dict[str, Any]
) -> None:
    page = localized
    page.goto(hub["dashboard_url"])
    page.locator("#key-form").wait_for()
    assert english_left(page) == [], "sign-in"
    sign_in_as_demo(page, hub)
    page.locator("#view-report").click()
    page.locator("#report-lines tr").first.wait_for()
    page.locator("#inactive-days").fill("1")
    page.locator("#inactive-form button[type=submit]").click()
    page.locator("#inactive-rows tr").first.wait_for()
    page.locator("#sync-last").wait_for()
    assert english_left(page) == [], "dashboard, report, inactive accounts and settings"

    page.locator("#rotate-api-key").click()
    page.locator("#confirm[open]").wait_for()
    assert english_left(page) == [], "confirmation dialog"
    page.locator("#confirm-cancel").click()

    page.select_option("#compare", "none")
    settled(page)
    page.locator(".legend-toggle").first.click()
    assert english_left(page) == [], "no comparison, a type hidden"
    assert page.page_errors == []


@pytest.mark.parametrize("localized", ["pl-PL"], indirect=True)
def test_polish_numbers_money_dates_and_plurals(localized: Any, hub: dict[str, Any]) -> None:
    page = localized
    serve(page, currency="PLN", revenue="12345.67", orders=1)
    sign_in_as_demo(page, hub)
    revenue = page.locator(".tile[data-metric=revenue_generated]")
    assert revenue.locator(".value").inner_text() == f"12{NBSP}345,67{NBSP}zł"
    assert revenue.locator(".change").inner_text() == f"+52,0% wobec 1000,00{NBSP}zł"
    assert page.locator(".tile[data-metric=total_accounts] .value").inner_text() == "1234"
    assert page.locator("#aov-value").inner_text() == f"52,10{NBSP}zł"
    assert page.locator("#aov-change").inner_text() == f"+8,5% wobec 48,00{NBSP}zł"
    active = page.locator(".tile[data-metric=active_accounts] .change").inner_text()
    assert active.startswith("Brak danych za 10–16 lis"), active
    caption = page.locator("#period-caption").inner_text()
    assert caption.startswith("25 paź") and "23 lis" in caption and "w porównaniu z" in caption

    forms = {1: "1 zamówienie", 2: "2 zamówienia", 5: "5 zamówień", 22: "22 zamówienia",
             12: "12 zamówień", 1001: "1001 zamówień"}  # fmt: skip
    for period, (orders, text) in zip(["yesterday", "today"] * 3, forms.items(), strict=True):
        page.unroute(re.compile(r"/v1/dashboard/"))
        serve(page, currency="PLN", orders=orders)
        with page.expect_response(lambda r: "average-order-value" in r.url):
            page.select_option("#period", period)
        settled(page)
        assert page.locator("#aov-orders").inner_text() == text
    assert page.page_errors == []


@pytest.mark.parametrize("localized", ["pt-BR"], indirect=True)
def test_brazilian_portuguese_numbers_money_and_dates(localized: Any, hub: dict[str, Any]) -> None:
    page = localized
    serve(page, currency="BRL", revenue="12345.67", orders=2)
    sign_in_as_demo(page, hub)
    revenue = page.locator(".tile[data-metric=revenue_generated]")
    assert revenue.locator(".value").inner_text() == f"R${NBSP}12.345,67"
    assert revenue.locator(".change").inner_text() == f"+52,0% ante R${NBSP}1.000,00"
    assert page.locator(".tile[data-metric=total_accounts] .value").inner_text() == "1.234"
    assert page.locator("#aov-orders").inner_text() == "2 pedidos"
    active = page.locator(".tile[data-metric=active_accounts] .change").inner_text()
    assert active.startswith("Sem dados de 10 – 16 de nov"), active
    assert "25 de out" in page.locator("#period-caption").inner_text()
    assert page.page_errors == []


@pytest.mark.parametrize("localized", ["en-US", "pl-PL", "pt-BR"], indirect=True)
def test_overview_and_settings_have_no_serious_accessibility_violation(
    localized: Any, hub: dict[str, Any]
) -> None:
    page = localized
    sign_in_as_demo(page, hub)
    page.locator("#sync-last").wait_for()
    assert serious_accessibility_violations(page) == []
    lang = page.evaluate("document.documentElement.lang")
    suffix = "" if lang == "en" else f"-{lang}"
    screenshot(page, f"docs-dashboard-overview{suffix}")
    page.locator("#settings").scroll_into_view_if_needed()
    screenshot(page, f"dashboard-settings{suffix}")
    assert page.page_errors == []
