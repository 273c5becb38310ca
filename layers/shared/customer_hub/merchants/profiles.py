"""Merchants: creation, settings and the hub status lifecycle."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from customer_hub import identity
from customer_hub.infra import clock
from customer_hub.infra.secrets import create_secret, credentials_secret_name
from customer_hub.merchants.api_keys import API_KEY_SK, api_key_pk
from customer_hub.merchants.repository import (
    PROFILE_SK,
    DynamoMerchants,
    MerchantStore,
    merchant_pk,
)
from customer_hub.problems import Conflict, NotFound

HubStatus = Literal["not_launched", "live", "disabled"]
_SHOP_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ORIGIN = re.compile(r"^https://(?P<host>[^/:?#]+)(?::(?P<port>[0-9]{1,5}))?$")
MAX_STOREFRONT_ORIGINS = 10


@cache
def _zones() -> frozenset[str]:
    """IANA zone names from the tzdata package (the system list adds `localtime` and the like)."""
    listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(listed.split()) - {"Factory"}


def check_timezone(name: str) -> str:
    if name not in _zones():
        raise ValueError(f"{name!r} is not an IANA time zone name (e.g. Europe/Warsaw)")
    ZoneInfo(name)
    return name


def check_shop_domain(value: str) -> str:
    value = value.strip().lower()
    if not _SHOP_DOMAIN.match(value):
        raise ValueError("must be a host name such as example.myshopify.com")
    return value


def check_origin(value: str) -> str:
    """A storefront origin as browsers send it: `https://host[:port]`, no path, no wildcard."""
    match = _ORIGIN.match(value.strip().lower())
    if not match or not _SHOP_DOMAIN.match(match["host"]):
        raise ValueError(
            f"{value!r} is not an origin such as https://www.example.com "
            "(https, a host name, an optional port; no path, no wildcard)"
        )
    port = match["port"]
    if port is not None and not 1 <= int(port) <= 65535:
        raise ValueError(f"{value!r}: the port must be 1-65535")
    if port == "443":  # browsers leave the default port out of Origin
        return f"https://{match['host']}"
    return f"https://{match['host']}" + (f":{int(port)}" if port else "")


def check_origins(values: list[str]) -> list[str]:
    origins = list(dict.fromkeys(check_origin(value) for value in values))
    if not 1 <= len(origins) <= MAX_STOREFRONT_ORIGINS:
        raise ValueError(f"list 1 to {MAX_STOREFRONT_ORIGINS} storefront origins")
    return origins


class NewMerchant(BaseModel):
    """What an operator gives to create a merchant."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    shop_domain: str = Field(min_length=4, max_length=253)
    timezone: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    # The secret Shopify signs this shop's webhooks with; generated when not given.
    webhook_secret: SecretStr | None = Field(default=None, min_length=8, max_length=512)

    @field_validator("shop_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        return check_shop_domain(value)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_timezone(value)


class SettingsPatch(BaseModel):
    """The settings a merchant may change (PATCH /v1/admin/settings)."""

    model_config = ConfigDict(extra="forbid")

    timezone: str | None = None
    cart_window_hours: int | None = Field(default=None, ge=1, le=720, strict=True)
    hub_status: Literal["live", "disabled"] | None = None
    shop_domain: str | None = Field(default=None, min_length=4, max_length=253)
    storefront_origins: list[str] | None = Field(default=None, max_length=100)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("shop_domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return None if value is None else check_shop_domain(value)

    @field_validator("storefront_origins")
    @classmethod
    def _origins(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_origins(value)


class Merchant(BaseModel):
    merchant_id: str
    name: str
    shop_domain: str
    timezone: str
    currency: str
    hub_status: HubStatus = "not_launched"
    launched_at: str | None = None
    cart_window_hours: int = 24
    created_at: str
    smile_connected: bool = False
    last_sync_at: str | None = None
    # As the merchant set them; None means the default, the shop domain's own origin.
    storefront_origins: list[str] | None = None

    @property
    def allowed_origins(self) -> list[str]:
        """The origins the storefront routes answer (CORS), exactly."""
        return self.storefront_origins or [f"https://{self.shop_domain}"]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def launched(self) -> datetime | None:
        return clock.parse_iso(self.launched_at) if self.launched_at else None

    def settings_json(self) -> dict[str, Any]:
        return {
            "merchant_id": self.merchant_id,
            "name": self.name,
            "shop_domain": self.shop_domain,
            "timezone": self.timezone,
            "currency": self.currency,
            "hub_status": self.hub_status,
            "launched_at": self.launched_at,
            "cart_window_hours": self.cart_window_hours,
            "smile": {"connected": self.smile_connected, "last_sync_at": self.last_sync_at},
            "storefront_origins": self.allowed_origins,
        }


class CreatedMerchant(BaseModel):
    """Shown once at creation; the secrets are never returned again."""

    merchant_id: str
    api_key: str
    customer_token_secret: str
    webhook_secret: str


# Where profiles are kept: the data table in every function, a fake in unit tests.
store: MerchantStore = DynamoMerchants()


def create_merchant(new: NewMerchant) -> CreatedMerchant:
    created = CreatedMerchant(
        merchant_id=identity.new_merchant_id(),
        api_key=identity.new_api_key(),
        customer_token_secret=identity.new_secret(),
        webhook_secret=(
            new.webhook_secret.get_secret_value() if new.webhook_secret else identity.new_secret()
        ),
    )
    create_secret(
        credentials_secret_name(created.merchant_id),
        {
            "customer_token_secret": created.customer_token_secret,
            "webhook_secret": created.webhook_secret,
        },
    )
    merchant = Merchant(
        merchant_id=created.merchant_id,
        created_at=clock.iso(clock.now()),
        **new.model_dump(exclude={"webhook_secret"}),
    )
    profile = {
        "pk": merchant_pk(merchant.merchant_id),
        "sk": PROFILE_SK,
        **merchant.model_dump(exclude={"storefront_origins"}),
        "api_key_hash": identity.hash_api_key(created.api_key),  # rotation: the current key
    }
    api_key_item = {
        "pk": api_key_pk(created.api_key),
        "sk": API_KEY_SK,
        "merchant_id": merchant.merchant_id,
    }
    if not store.create(profile, api_key_item, token=created.merchant_id):
        # The ids are random: if the profile is there, it is this very write, retried by the SDK.
        stored = store.find(merchant.merchant_id, consistent=True)
        if not stored or stored.get("created_at") != merchant.created_at:
            raise Conflict("This merchant exists already.")
    return created


def find_merchant(merchant_id: str) -> Merchant | None:
    item = store.find(merchant_id)
    return Merchant.model_validate(item) if item else None


def get_merchant(merchant_id: str) -> Merchant:
    merchant = find_merchant(merchant_id)
    if merchant is None:
        raise NotFound("No such merchant.")
    return merchant


def update_settings(merchant_id: str, patch: SettingsPatch) -> Merchant:
    """Apply a settings change; hub status moves not_launched → live ↔ disabled only."""
    fields = patch.model_dump(
        include={"timezone", "shop_domain", "storefront_origins", "cart_window_hours"},
        exclude_none=True,
    )
    launched_at = None
    if patch.hub_status == "live":
        fields["hub_status"], launched_at = "live", clock.iso(clock.now())
    elif patch.hub_status == "disabled":
        fields["hub_status"] = "disabled"
    if not fields:
        return get_merchant(merchant_id)
    changed = store.change(
        merchant_id,
        fields,
        launched_at=launched_at,
        require_launched=patch.hub_status == "disabled",
    )
    if changed is None:
        if find_merchant(merchant_id) is None:
            raise NotFound("No such merchant.")
        raise Conflict("The hub has not been launched yet; set hub_status to 'live' first.")
    return Merchant.model_validate(changed)
