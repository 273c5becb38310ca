"""Connecting a merchant to Smile.io: verify the key, keep it secret, list who is connected.

The key lives only in Secrets Manager (`secrets.smile_secret_name`). Connected merchants are
items `SMILE_CONNECTIONS` / `MERCHANT#<id>` in the data table, so the scheduler lists them with
one Query (no Scan); the merchant profile carries `smile_connected` for the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pydantic import BaseModel, ConfigDict, Field, field_validator

from customer_hub.infra import clock
from customer_hub.infra.config import config
from customer_hub.infra.secrets import delete_secret, put_secret, read_secret, smile_secret_name
from customer_hub.infra.store import Table
from customer_hub.merchants.profiles import PROFILE_SK, find_merchant, merchant_pk
from customer_hub.problems import NotFound, UpstreamUnavailable, validation_error
from customer_hub.smile import sync
from customer_hub.smile.client import RetryPolicy, SmileClient
from customer_hub.smile.errors import (
    SmileError,
    SmileForbidden,
    SmileUnauthorized,
    SmileUnavailable,
)

CONNECTIONS_PK = "SMILE_CONNECTIONS"
KEY_CACHE_SECONDS = 60
# The merchant waits for the answer: fail fast rather than hold the request for long.
VERIFY_RETRY = RetryPolicy(max_attempts=3, base_delay=0.2, max_delay=1.0, max_seconds=4.0)


class SmileConnectionRequest(BaseModel):
    """PUT /v1/admin/smile/connection."""

    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(min_length=1, max_length=512)

    @field_validator("api_key")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        value = value.strip()
        if not value or not all("!" <= ch <= "~" for ch in value):
            raise ValueError("must be a Smile.io private API key (printable ASCII, no spaces)")
        return value


class UpstreamBadGateway(UpstreamUnavailable):
    status = 502


def _data() -> Table:
    return Table(config().data_table)


def verify_key(api_key: str, client_factory: Callable[..., SmileClient] = SmileClient) -> None:
    """One cheap authenticated call; a rejected key is a 422 that says so."""
    with client_factory(api_key, retry=VERIFY_RETRY) as smile:
        try:
            smile.verify()
        except SmileUnauthorized as exc:
            raise validation_error(
                ["body", "api_key"], "Smile.io rejected this API key (401 Unauthorized)."
            ) from exc
        except SmileForbidden as exc:
            raise validation_error(
                ["body", "api_key"],
                "Smile.io accepted the key but it may not read the program (403 Forbidden).",
            ) from exc
        except SmileUnavailable as exc:
            raise UpstreamUnavailable(
                "Smile.io did not answer; try again shortly.", headers={"Retry-After": "30"}
            ) from exc
        except SmileError as exc:
            raise UpstreamBadGateway(f"Smile.io answered unexpectedly ({exc.status}).") from exc


def connect(
    merchant_id: str,
    api_key: str,
    client_factory: Callable[..., SmileClient] = SmileClient,
) -> None:
    if find_merchant(merchant_id) is None:
        raise NotFound("No such merchant.")
    verify_key(api_key, client_factory)
    put_secret(smile_secret_name(merchant_id), {"api_key": api_key})
    sync.reset_state(merchant_id)
    table = _data()
    table.update(
        merchant_pk(merchant_id),
        PROFILE_SK,
        "SET smile_connected = :yes",
        values={":yes": True},
        condition="attribute_exists(pk)",
    )
    table.put(
        {
            "pk": CONNECTIONS_PK,
            "sk": merchant_pk(merchant_id),
            "merchant_id": merchant_id,
            "connected_at": clock.iso(clock.now()),
        }
    )


def disconnect(merchant_id: str) -> None:
    """Forget the key and stop syncing; snapshots already taken stay."""
    table = _data()
    table.delete(CONNECTIONS_PK, merchant_pk(merchant_id))
    table.update(
        merchant_pk(merchant_id),
        PROFILE_SK,
        "SET smile_connected = :no",
        values={":no": False},
        condition="attribute_exists(pk)",
    )
    delete_secret(smile_secret_name(merchant_id))
    sync.stop_run(merchant_id)


def is_connected(merchant_id: str) -> bool:
    return _data().get(CONNECTIONS_PK, merchant_pk(merchant_id), consistent=True) is not None


def connected_merchants() -> Iterator[str]:
    for item in _data().query_all(CONNECTIONS_PK):
        yield str(item["merchant_id"])


def api_key_for(merchant_id: str) -> str | None:
    secret = read_secret(smile_secret_name(merchant_id), max_age=KEY_CACHE_SECONDS)
    key = (secret or {}).get("api_key")
    return key if isinstance(key, str) and key else None
