"""The secret Shopify signs a shop's webhooks with (API.md §Shopify webhooks).

Shopify signs with a secret of its own: the custom app's client secret, or the store's webhook
signing secret (Settings → Notifications → Webhooks). The operator sets it with
`PUT /v1/admin/shopify/webhook-secret` (kept in its own secret, `.../merchants/<id>/shopify`,
so that route can write it without reading the customer-token secret) or with
`hub merchants create --webhook-secret`, which stores it among the merchant's credentials.
"""

from __future__ import annotations

import threading
import time

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from customer_hub.infra.config import config
from customer_hub.infra.secrets import merchant_credentials, put_secret, read_secret


class WebhookSecretRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: SecretStr = Field(
        min_length=8,
        max_length=512,
        description="the app's client secret or the store's webhook signing secret",
    )

    @field_validator("secret")
    @classmethod
    def _no_spaces(cls, value: SecretStr) -> SecretStr:
        if any(char.isspace() for char in value.get_secret_value()):
            raise ValueError("a signing secret has no spaces (copy it again from Shopify)")
        return value


# Merchants without a secret of their own: remembered for a minute so that their webhooks do
# not each ask Secrets Manager for a secret that is not there.
ABSENT_CACHE_SECONDS = 60
_absent: dict[str, float] = {}
_absent_lock = threading.Lock()


def shopify_secret_name(merchant_id: str) -> str:
    return f"{config().secrets_prefix}/merchants/{merchant_id}/shopify"


def set_webhook_secret(merchant_id: str, secret: str) -> None:
    put_secret(shopify_secret_name(merchant_id), {"webhook_secret": secret})
    with _absent_lock:
        _absent.pop(merchant_id, None)


def webhook_secret(merchant_id: str) -> str | None:
    """The secret set with PUT /v1/admin/shopify/webhook-secret, else the one the merchant was
    created with."""
    with _absent_lock:
        absent = _absent.get(merchant_id, 0.0) > time.monotonic()
    if not absent:
        stored = read_secret(shopify_secret_name(merchant_id))
        if stored and stored.get("webhook_secret"):
            return str(stored["webhook_secret"])
        with _absent_lock:
            _absent[merchant_id] = time.monotonic() + ABSENT_CACHE_SECONDS
    credentials = merchant_credentials(merchant_id)
    return credentials.webhook_secret.get_secret_value() if credentials else None
