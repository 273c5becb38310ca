"""Pure rules of a real store (SPEC §9): the theme-signed session and storefront origins."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from pydantic import ValidationError

from customer_hub import identity
from customer_hub.merchants.profiles import Merchant, SettingsPatch

SECRET = "theme-secret-0123456789"
MERCHANT = "m_0123456789abcdef"
NOW = 1_800_000_000


def _signed(issued_at: int = NOW, email: str = "Ana@Example.com", secret: str = SECRET) -> str:
    # What Liquid's hmac_sha256 renders: lowercase hex, computed here without the module.
    message = f"customer-hub-session:v1:{MERCHANT}:7001:{issued_at}:{email}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_the_signing_string_is_versioned_and_exactly_as_documented() -> None:
    assert (
        identity.session_message(MERCHANT, "7001", NOW, "Ana@Example.com")
        == f"customer-hub-session:v1:{MERCHANT}:7001:{NOW}:Ana@Example.com"
    )
    assert identity.session_signature(SECRET, MERCHANT, "7001", NOW, "Ana@Example.com") == _signed()


@pytest.mark.parametrize(
    ("issued_at", "valid"),
    [
        (NOW, True),
        (NOW - 24 * 3600, True),
        (NOW - 24 * 3600 - 1, False),
        (NOW + 300, True),
        (NOW + 301, False),
    ],
)
def test_sessions_are_accepted_24_hours_back_and_5_minutes_ahead(
    issued_at: int, valid: bool
) -> None:
    def verify() -> None:
        identity.verify_session(
            SECRET, MERCHANT, "7001", issued_at, "Ana@Example.com", _signed(issued_at), now=NOW
        )

    if valid:
        verify()
    else:
        with pytest.raises(identity.InvalidSession):
            verify()


@pytest.mark.parametrize(
    "change",
    [
        {"secret": "another-merchants-secret"},
        {"email": "eve@example.com"},
        {"customer_id": "7002"},
        {"merchant_id": "m_fedcba9876543210"},
    ],
)
def test_anything_not_signed_is_refused(change: dict[str, str]) -> None:
    fields = {"merchant_id": MERCHANT, "customer_id": "7001", "email": "Ana@Example.com"}
    signature = _signed(secret=change.get("secret", SECRET))
    fields.update({k: v for k, v in change.items() if k != "secret"})
    with pytest.raises(identity.InvalidSession):
        identity.verify_session(
            SECRET,
            fields["merchant_id"],
            fields["customer_id"],
            NOW,
            fields["email"],
            signature,
            now=NOW,
        )


def _merchant(**fields: object) -> Merchant:
    base = {
        "merchant_id": MERCHANT,
        "name": "Brand",
        "shop_domain": "brand.myshopify.com",
        "timezone": "UTC",
        "currency": "USD",
        "created_at": "2026-11-23T10:00:00Z",
    }
    return Merchant.model_validate({**base, **fields})


def test_storefront_origins_default_to_the_shop_domain() -> None:
    assert _merchant().allowed_origins == ["https://brand.myshopify.com"]
    assert _merchant(storefront_origins=["https://www.brand.com"]).allowed_origins == [
        "https://www.brand.com"
    ]


def test_origins_are_normalised_as_browsers_send_them() -> None:
    patch = SettingsPatch.model_validate(
        {
            "storefront_origins": [
                "https://WWW.Brand.com",
                "https://brand.com:8443",
                "https://shop.brand.com:443",
                "https://www.brand.com",
            ]
        }
    )
    assert patch.storefront_origins == [
        "https://www.brand.com",
        "https://brand.com:8443",
        "https://shop.brand.com",
    ]


@pytest.mark.parametrize(
    "origins",
    [
        [],
        ["http://www.brand.com"],
        ["https://www.brand.com/"],
        ["https://www.brand.com/shop"],
        ["https://*.brand.com"],
        ["*"],
        ["https://www.brand.com?x=1"],
        ["https://user@www.brand.com"],
        ["https://www.brand.com:0"],
        ["https://www.brand.com:70000"],
        ["https://127.0.0.1"],
        ["www.brand.com"],
        [f"https://s{n}.brand.com" for n in range(11)],
    ],
)
def test_bad_origins_are_refused(origins: list[str]) -> None:
    with pytest.raises(ValidationError):
        SettingsPatch.model_validate({"storefront_origins": origins})


def test_the_app_embed_block_renders_what_the_snippet_renders() -> None:
    """web/shopify/extension/blocks/customer-hub.liquid and the snippet sign the same way."""
    from tests.support.theme import SNIPPETS, theme_environment

    block = (SNIPPETS.parent / "extension" / "blocks" / "customer-hub.liquid").read_text()
    block = block.split("{% schema %}")[0]
    settings = {"merchant_id": MERCHANT, "api_base": "https://hub", "script_url": "https://s.js"}
    shared = {
        "shop": {"metafields": {"customer_hub": {"token_secret": {"value": SECRET}}}},
        "customer": {"id": 7001, "email": "Ana@Example.com"},
        "routes": {"account_login_url": "/account/login"},
    }
    env = theme_environment()
    from_block = env.from_string(block).render(block={"settings": settings}, **shared)
    from_snippet = env.from_string(
        "{% render 'customer-hub', merchant_id: '" + MERCHANT + "', api_base: 'https://hub', "
        "script_url: 'https://s.js' %}"
    ).render(**shared)

    def signed_parts(page: str) -> tuple[str, int, str]:
        issued = re.search(r'issued-at="(\d+)"', page)
        signature = re.search(r'signature="([0-9a-f]{64})"', page)
        assert issued and signature, page
        rest = page.replace(issued[0], "").replace(signature[0], "").strip()
        return rest, int(issued[1]), signature[1]

    block_rest, block_issued, block_signature = signed_parts(from_block)
    snippet_rest, snippet_issued, snippet_signature = signed_parts(from_snippet)
    assert block_rest == snippet_rest
    assert block_signature == _signed(block_issued)
    assert snippet_signature == _signed(snippet_issued)
