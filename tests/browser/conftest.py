"""Real headless Chromium (Debian's `chromium` package) driven by Playwright for Python.

Playwright's own browser download is never used (`executable_path`). Where no Chromium can be
had the browser tests are skipped with what to install; under CI (CI=true) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.devserver import hub_dev

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is missing: pip install -r requirements-dev.txt"
    if not os.access(CHROMIUM, os.X_OK):
        return (
            f"no Chromium at {CHROMIUM}: install Debian's 'chromium' package "
            "(apt-get install chromium, or scripts/ensure-chromium as root)"
        )
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the browser tests and cannot: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def hub(browser: Any) -> Iterator[dict[str, Any]]:
    """One `hub dev` (with demo data) for the browser tests: its ready line."""
    with hub_dev() as ready:
        yield ready


@pytest.fixture(scope="session")
def http(hub: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub["url"], timeout=30) as client:
        yield client


def new_context(browser: Any, viewport: dict[str, int] = DESKTOP, locale: str = "en-US") -> Any:
    """A browser context that reaches 127.0.0.1 only (reward images on a CDN are not fetched);
    `locale` is the browser's language (navigator.language, Accept-Language)."""
    made = browser.new_context(viewport=viewport, locale=locale)
    made.set_default_timeout(15_000)
    made.route(lambda url: not url.startswith("http://127.0.0.1:"), lambda route: route.abort())
    return made


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    made = new_context(browser)
    yield made
    made.close()


@pytest.fixture
def page(context: Any) -> Any:
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.page_errors = errors
    return opened


def screenshot(page: Any, name: str) -> Path:
    """Saves a screenshot under test-output/; under `scripts/screenshots` (CHUB_DOC_SCREENSHOTS=1)
    a name starting with "docs-" is also written to docs/screenshots/ for the README and docs."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    if name.startswith("docs-") and os.environ.get("CHUB_DOC_SCREENSHOTS") == "1":
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOC_SCREENSHOTS / f"{name.removeprefix('docs-')}.png"))
    return path


def serious_accessibility_violations(page: Any, context: Any = None) -> list[str]:
    """axe-core (the copy bundled by axe-playwright-python) run in the page: every violation of
    impact "serious" or "critical", as "rule-id: help (selector, ...)" lines; [] when none."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page, context=context).response.get("violations", [])
    return [
        f"{violation['id']}: {violation['help']} "
        f"({', '.join(str(node['target']) for node in violation['nodes'][:5])})"
        for violation in found
        if violation.get("impact") in {"serious", "critical"}
    ]
