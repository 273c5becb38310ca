"""`hub dev` with Smile.io: the stand-in starts, the demo merchant is connected and synced before
the ready line, and a requested sync plus a drain refreshes it."""

from __future__ import annotations

import httpx

from hubdev.smile_dev import DEMO_SMILE_KEY
from tests.support.devserver import hub_dev

SYNC = "/v1/admin/smile/sync"


def test_demo_merchant_is_synced_from_the_stand_in_and_refreshes_on_request() -> None:
    with hub_dev() as ready:
        smile_url = ready["smile_url"]
        assert smile_url.startswith("http://127.0.0.1:") and smile_url.endswith("/v1")
        demo = ready["demo"]
        assert demo["smile"]["connected"] is True
        assert demo["smile"]["customers_synced"] == 300
        shoppers = demo["smile"]["shoppers"]
        assert set(shoppers) == {"login_required", "excluded", "not_member", "join", "member"}
        auth = {"Authorization": f"Bearer {demo['api_key']}"}
        with httpx.Client(base_url=ready["url"], headers=auth, timeout=30) as http:
            settings = http.get("/v1/admin/settings").json()
            assert settings["smile"]["connected"] is True and settings["smile"]["last_sync_at"]
            first = http.get(SYNC).json()
            assert first["status"] == "idle" and first["customers_synced"] == 300

            control = smile_url.removesuffix("/v1") + "/_control/customers"
            changed = httpx.post(
                control,
                json={"account": "demo", "email": shoppers["member"], "points_balance": 990},
            )
            assert changed.status_code == 200 and len(changed.json()["customers"]) == 1
            assert http.post(SYNC).status_code == 202
            assert http.post("/_local/drain").status_code == 200  # (or the pump ran it already)
            second = http.get(SYNC).json()
            assert second["status"] == "idle"
            assert second["customers_synced"] == 1, "only the changed shopper is fetched"
            assert second["last_success_at"] >= first["last_success_at"]
    assert DEMO_SMILE_KEY not in "".join(ready["logs"]), "the Smile key was logged"
