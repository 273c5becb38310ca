"""The hub's Shopify theme snippet (web/shopify/) rendered by a real Liquid engine.

python-liquid stands in for Shopify's renderer; the one Shopify-only filter the snippet uses,
`hmac_sha256`, is registered as Shopify documents it (`string | hmac_sha256: secret` → the
lowercase hex HMAC-SHA256 of the string keyed with the secret; Shopify's own example:
`'Polyjuice' | hmac_sha256: 'Polina'` = 8e0d5d65…dc20).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

from liquid import CachingFileSystemLoader, Environment

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "web" / "shopify" / "snippets"
METAFIELD_NAMESPACE, METAFIELD_KEY = "customer_hub", "token_secret"


def hmac_sha256(value: object, secret: object) -> str:
    return hmac.new(str(secret).encode(), str(value).encode(), hashlib.sha256).hexdigest()


def theme_environment() -> Environment:
    env = Environment(loader=CachingFileSystemLoader(SNIPPETS, ext=".liquid"))
    env.filters["hmac_sha256"] = hmac_sha256
    return env


def render_theme(
    body: str,
    *,
    secret: str | None,
    customer: dict[str, Any] | None,
    render_args: str,
    locale: str = "en",
) -> str:
    """A theme page: `body` (the theme's own markup) then the snippet rendered the way the
    install guide says, `{% render 'customer-hub', <render_args> %}`, with Shopify's globals
    (`shop` with the metafield, `customer`, `routes`, `request.locale` of the storefront's
    language)."""
    metafields = {METAFIELD_NAMESPACE: {METAFIELD_KEY: {"value": secret}}} if secret else {}
    layout = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Theme</title></head>'
        f"<body>{body}{{% render 'customer-hub', {render_args} %}}</body></html>"
    )
    template = theme_environment().from_string(layout)
    return template.render(
        shop={"metafields": metafields},
        customer=customer,
        routes={"account_login_url": "/account/login"},
        request={"locale": {"iso_code": locale}},
    )
