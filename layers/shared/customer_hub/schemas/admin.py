"""Success bodies of the merchant admin routes and the Shopify webhook (API.md)."""

from __future__ import annotations

from typing import Literal

from customer_hub.schemas import ResponseModel, Timestamp


class SmileStatus(ResponseModel):
    connected: bool
    last_sync_at: Timestamp | None


class Settings(ResponseModel):
    """GET and PATCH /v1/admin/settings."""

    merchant_id: str
    name: str
    shop_domain: str
    timezone: str
    currency: str
    hub_status: Literal["not_launched", "live", "disabled"]
    launched_at: Timestamp | None
    cart_window_hours: int
    smile: SmileStatus
    storefront_origins: list[str]


class SmileConnected(ResponseModel):
    """PUT /v1/admin/smile/connection."""

    connected: bool


class SmileSyncQueued(ResponseModel):
    """POST /v1/admin/smile/sync (202)."""

    queued: bool


class SmileSyncStatus(ResponseModel):
    """GET /v1/admin/smile/sync."""

    status: Literal["idle", "running", "failed"]
    last_success_at: Timestamp | None
    last_error: str | None
    customers_synced: int
    requests_made: int


class WebhookReceipt(ResponseModel):
    """POST /v1/webhooks/shopify/{merchant_id}: `duplicate` for a repeated webhook id,
    `ignored` for other topics or a hub that is not live."""

    status: Literal["accepted", "duplicate", "ignored"]


class CredentialRotated(ResponseModel):
    """POST /v1/admin/credentials/{name}/rotate: the new value of the rotated credential (the
    other one is null), shown once; the previous value works until `previous_valid_until`."""

    api_key: str | None = None
    customer_token_secret: str | None = None
    previous_valid_until: Timestamp
