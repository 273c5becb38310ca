"""The web front ends in `hub dev`: static pages, demo shoppers and locally minted tokens.

Local only, never deployed: `GET /storefront/…` (the demo storefront with the `<customer-hub>`
drawer), `GET /dashboard/…` (the merchant dashboard), `GET /_local/demo/shoppers` (one demo
shopper per loyalty state), `POST /_local/demo/token` (a customer token signed with the
merchant's `customer_token_secret`, as a shop's server side would mint it) and
`GET /discount/<code>` (what Shopify's discount link does: the code lands in the cart cookie).
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from customer_hub.identity import mint_customer_token
from customer_hub.infra.secrets import merchant_credentials
from hubdev.server import LocalServer, Reply, json_reply, problem_reply
from hubdev.smile_demo import demo_shoppers

WEB_ROOT = Path(__file__).resolve().parents[2] / "web"
TOKEN_SECONDS = 3600
SITES = ("storefront", "dashboard")
STATE_LABELS = {
    "login_required": "Logged out",
    "excluded": "Excluded from the program",
    "not_member": "No loyalty account",
    "join": "New member (0 points)",
    "member": "Member with points",
}
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css"}


def shopify_customer_id(email: str) -> str:
    """A stable Shopify-like customer id (digits) for a demo email."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return str(7_000_000_000_000 + int(digest[:10], 16) % 1_000_000_000_000)


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    customer_id: str | None = Field(default=None, pattern=r"^\d{1,20}$")
    merchant_id: str | None = None


def static_reply(site: str, path: str) -> Reply:
    root = (WEB_ROOT / site).resolve()
    target = (root / unquote(path or "index.html")).resolve()
    if target.is_dir():
        target = target / "index.html"
    if not target.is_relative_to(root) or not target.is_file():
        return problem_reply(404, "not-found", "Not found", f"No file {path!r} in {site}.")
    content_type = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
    headers = {
        "content-type": content_type or "application/octet-stream",
        "cache-control": "no-store",
    }
    return 200, headers, target.read_bytes()


def mount(server: LocalServer, demo: dict[str, Any] | None) -> dict[str, str]:
    """Register the web routes on `server`; returns the URLs for the ready line."""
    demo_merchant = demo["merchant_id"] if demo else None

    def site(name: str) -> Callable[[re.Match[str], bytes, dict[str, str]], Reply]:
        def serve(match: re.Match[str], _body: bytes, _headers: dict[str, str]) -> Reply:
            path = match.group("path")
            if path is None:  # "/storefront" → "/storefront/" so relative URLs resolve
                return 302, {"location": f"/{name}/"}, b""
            return static_reply(name, path.lstrip("/"))

        return serve

    def shoppers(_match: re.Match[str], _body: bytes, _headers: dict[str, str]) -> Reply:
        if demo_merchant is None:
            return problem_reply(404, "not-found", "Not found", "hub dev runs without demo data.")
        listed = [
            {
                "state": state,
                "label": STATE_LABELS.get(state, state),
                "email": email,
                "customer_id": shopify_customer_id(email) if email else None,
            }
            for state, email in demo_shoppers().items()
        ]
        return json_reply(200, {"merchant_id": demo_merchant, "api_base": "", "shoppers": listed})

    def token(_match: re.Match[str], body: bytes, _headers: dict[str, str]) -> Reply:
        try:
            request = TokenRequest.model_validate_json(body or b"{}")
        except ValidationError as exc:
            return problem_reply(422, "validation", "Invalid request", str(exc.errors()[0]["msg"]))
        merchant_id = request.merchant_id or demo_merchant
        credentials = merchant_credentials(merchant_id) if merchant_id else None
        if merchant_id is None or credentials is None:
            return problem_reply(404, "not-found", "Not found", "No such merchant.")
        customer_id = request.customer_id or shopify_customer_id(request.email)
        secret = credentials.customer_token_secret.get_secret_value()
        signed = mint_customer_token(merchant_id, secret, customer_id, request.email, TOKEN_SECONDS)
        return json_reply(200, {"token": signed, "customer_id": customer_id})

    def discount(match: re.Match[str], _body: bytes, _headers: dict[str, str]) -> Reply:
        code = unquote(match.group("code"))
        cookie = f"discount_code={quote(code)}; Path=/; SameSite=Lax"
        body = json.dumps({"discount_code": code}).encode()
        return 200, {"content-type": "application/json", "set-cookie": cookie}, body

    for name in SITES:
        server.add_route("GET", rf"/{name}(?P<path>/[^?]*)?", site(name))
    server.add_route("GET", r"/_local/demo/shoppers", shoppers)
    server.add_route("POST", r"/_local/demo/token", token)
    server.add_route("GET", r"/discount/(?P<code>[^/]+)", discount)
    return {
        "storefront_url": f"{server.url}/storefront/",
        "dashboard_url": f"{server.url}/dashboard/",
    }
