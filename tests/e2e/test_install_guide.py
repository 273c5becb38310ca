"""docs/install-shopify.md runs as written: its `sh test` blocks, against `hub dev`.

Only the URL of the first block is swapped for hub dev's (and `HUB_URL` is set, so
`hub merchants create` creates the merchant there). A local Smile.io stand-in knows the guide's
placeholder key. Afterwards the store is checked as Shopify and a shopper would reach it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hubdev.smile_standin import SmileStandIn
from tests.support.devserver import hub_dev
from tests.support.theme import SNIPPETS, theme_environment

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "install-shopify.md"
DEPLOYED_URL = "https://dxxxxxxxxxxxx.cloudfront.net"
SMILE_PLACEHOLDER = "paste-your-smile-private-key"
WEBHOOK_PLACEHOLDER = "paste-the-signing-secret-here"
CUSTOMER = ROOT / "tests" / "fixtures" / "shopify" / "customers-create.json"


def guide_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh test\n(.*?)^```$", text, flags=re.S | re.M)


@pytest.fixture(scope="module")
def guide_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    blocks = guide_blocks(GUIDE.read_text(encoding="utf-8"))
    script = "\n".join(blocks)
    assert script.count(f"API={DEPLOYED_URL}") == 1, "the guide names the deployed URL once"
    with SmileStandIn() as smile:
        smile.add_account(SMILE_PLACEHOLDER, customers=20)
        with hub_dev("--no-demo", env={"SMILE_API_BASE_URL": smile.url}) as ready:
            workdir = tmp_path_factory.mktemp("guide")
            env = {
                **os.environ,
                "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
                "HUB_URL": ready["url"],
            }
            run = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script.replace(DEPLOYED_URL, ready["url"], 1)],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
            merchant = json.loads((workdir / "merchant.json").read_text())
            with httpx.Client(base_url=ready["url"], timeout=30) as http:
                yield {"run": run, "blocks": blocks, "merchant": merchant, "http": http}


def test_the_guide_has_a_tested_block_for_every_command_step(guide_run: dict[str, Any]) -> None:
    joined = "\n".join(guide_run["blocks"])
    for command in (
        "hub merchants create",
        "/v1/admin/shopify/webhook-secret",
        "storefront_origins",
        "/v1/admin/smile/connection",
        '"hub_status": "live"',
        "{% render 'customer-hub'",
    ):
        assert command in joined, command


def test_every_tested_command_succeeds(guide_run: dict[str, Any]) -> None:
    run = guide_run["run"]
    assert run.returncode == 0, f"{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
    merchant_id = guide_run["merchant"]["merchant_id"]
    assert f"merchant {merchant_id}" in run.stdout
    assert f"/v1/webhooks/shopify/{merchant_id}" in run.stdout


def test_the_store_is_set_up_as_the_guide_says(guide_run: dict[str, Any]) -> None:
    http, merchant = guide_run["http"], guide_run["merchant"]
    auth = {"Authorization": f"Bearer {merchant['api_key']}"}
    settings = http.get("/v1/admin/settings", headers=auth).json()
    assert settings["hub_status"] == "live"
    assert settings["shop_domain"] == "brand-store.myshopify.com"
    assert settings["storefront_origins"] == [
        "https://www.brand.com",
        "https://brand.com",
        "https://brand-store.myshopify.com",
    ]
    assert settings["smile"]["connected"] is True
    assert "access-control-allow-origin: https://www.brand.com" in guide_run["run"].stdout.lower()


def test_shopify_webhooks_signed_with_the_secret_set_in_the_guide_go_through(
    guide_run: dict[str, Any],
) -> None:
    http, merchant = guide_run["http"], guide_run["merchant"]
    raw = CUSTOMER.read_bytes()
    digest = hmac.new(WEBHOOK_PLACEHOLDER.encode(), raw, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "customers/create",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Webhook-Id": "guide-test-notification",
        "X-Shopify-Shop-Domain": "brand-store.myshopify.com",
    }
    sent = http.post(
        f"/v1/webhooks/shopify/{merchant['merchant_id']}", content=raw, headers=headers
    )
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"status": "accepted"}


def test_the_render_tag_the_guide_prints_signs_a_logged_in_customer(
    guide_run: dict[str, Any],
) -> None:
    http, merchant = guide_run["http"], guide_run["merchant"]
    tag = next(
        line for line in guide_run["run"].stdout.splitlines() if "render 'customer-hub'" in line
    )
    assert (SNIPPETS / "customer-hub.liquid").is_file()
    secret = merchant["customer_token_secret"]
    page = (
        theme_environment()
        .from_string(tag)
        .render(
            shop={"metafields": {"customer_hub": {"token_secret": {"value": secret}}}},
            customer={"id": 7001, "email": "ana@example.com"},
            routes={"account_login_url": "/account/login"},
        )
    )
    attributes = dict(re.findall(r'([a-z-]+)="([^"]*)"', page))
    assert attributes["merchant-id"] == merchant["merchant_id"]
    assert attributes["src"] == f"{attributes['api-base']}/storefront/customer-hub.js"
    assert http.get(attributes["src"]).status_code == 200
    session = http.post(
        f"/v1/shops/{merchant['merchant_id']}/hub/session",
        json={
            "customer_id": attributes["customer-id"],
            "email": attributes["customer-email"],
            "issued_at": int(attributes["issued-at"]),
            "signature": attributes["signature"],
        },
        headers={"Origin": "https://www.brand.com"},
    )
    assert session.status_code == 200, session.text
    assert session.headers["access-control-allow-origin"] == "https://www.brand.com"
