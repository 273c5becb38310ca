"""The drawer reports hub interactions through POST /events (SPEC §5)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.browser.drawer_helpers import needs_state


def test_opening_the_hub_reports_hub_opened(
    page: Any, hub: dict[str, Any], http: httpx.Client
) -> None:
    needs_state(http, "member")
    page.goto(f"{hub['storefront_url']}?state=member")
    page.wait_for_selector("body[data-ready=true]")
    with page.expect_response(re.compile(r"/hub/events$")) as reported:
        page.click("customer-hub .launcher")
    response = reported.value
    sent = json.loads(response.request.post_data)["events"]
    assert [e["type"] for e in sent] == ["hub_opened"]
    assert response.status == 202, response.text()
    assert response.json() == {"accepted": 1, "duplicates": 0}
