"""Program settings the demo program does not have, shown in real Chromium (issue 17, point 3):
the referral program inactive and VIP tiers counted by amount spent. The drawer talks to `hub
dev` as usual; its `/loyalty` and `/rewards` answers are the server's own, altered in flight the
way the server answers for such a program (referral_url null; the VIP text and figures of
`loyalty.view.vip_progress` with milestone_type "amount_spent", which its unit tests check).
A separate merchant would need its own Smile account and would wait out the program cache."""

from __future__ import annotations

import json
from typing import Any

from customer_hub.loyalty.snapshots import Program, VipStatus
from customer_hub.loyalty.view import vip_progress
from tests.browser.drawer_helpers import FOR_YOU, open_drawer

ORIGINAL_REFERRALS: list[str | None] = []


def _altered(route: Any, program: dict[str, Any] | None) -> None:
    answer = route.fetch()
    body = answer.json()
    ORIGINAL_REFERRALS.append(body.get("referral_url"))
    body["referral_url"] = None
    if program is not None and body.get("next_vip_tier"):
        body["next_vip_tier"] = program
    route.fulfill(response=answer, body=json.dumps(body))


def _amount_spent_tier(language: str) -> dict[str, Any]:
    program = Program.model_validate(
        {
            "points_label": {"one": "Coin", "other": "Coins"},
            "vip_tiers": [
                {"id": 2, "name": "Silver", "milestone": 500},
                {"id": 3, "name": "Gold", "milestone": 1500},
            ],
            "vip_settings": {"milestone_type": "amount_spent"},
        }
    )
    status = VipStatus(
        vip_tier_id=2, next_vip_tier_id=3, progress_value=1380, delta_to_next_vip_tier=120
    )
    shown = vip_progress(program, status, "USD", language)  # type: ignore[arg-type]
    assert shown is not None
    return shown


def test_inactive_referral_program_and_amount_spent_tiers(page: Any, hub: dict[str, Any]) -> None:
    tier = _amount_spent_tier("en")
    assert tier["text"].replace("\xa0", " ") == "$120 more to Gold"
    page.route("**/loyalty", lambda route: _altered(route, tier))
    page.route("**/rewards", lambda route: _altered(route, None))

    open_drawer(page, hub, "member")
    shown = page.locator(f"{FOR_YOU} [data-testid=vip-progress]")
    assert shown.locator("p").inner_text().replace("\xa0", " ") == "$120 more to Gold"
    bar = shown.locator("[role=progressbar]")
    assert bar.get_attribute("aria-valuenow") == str(tier["percent"])
    assert page.locator("customer-hub .referral").count() == 0
    assert page.locator("customer-hub #referral").count() == 0

    page.locator(f"{FOR_YOU} [data-testid=best-reward]").click()
    page.wait_for_selector("customer-hub [data-testid=rewards-coupons]")
    assert page.locator("customer-hub .referral").count() == 0, "no referral card on Rewards"
    assert page.locator("customer-hub #ways").count() == 1, "ways to earn still follow"
    assert any(ORIGINAL_REFERRALS), "the demo member has a referral link the drawer would show"
