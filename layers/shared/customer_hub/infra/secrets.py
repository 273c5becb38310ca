"""Per-merchant secrets in AWS Secrets Manager (never in DynamoDB, never in a log line).

Read through the shared client (`customer_hub.infra.aws.client`: its retries and timeouts) into a
size-bounded cache of the warm container, rather than Powertools parameters, whose cache grows
with every name read and keeps no read time (`max_age` per read: a verifier that meets a token
signed with a just-rotated secret re-reads a cached value older than a few seconds).
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, SecretStr

from customer_hub.infra import clock
from customer_hub.infra.aws import client
from customer_hub.infra.config import config
from customer_hub.infra.lru import ExpiringLru, Missing
from customer_hub.problems import ServiceBusy

CACHE_SECONDS = 300
CACHE_ENTRIES = 1024  # secrets per warm container; least recently used go first
NOT_FOUND = "ResourceNotFoundException"

logger = Logger()


class PreviousTokenSecret(BaseModel):
    secret: SecretStr
    valid_until: str  # UTC ISO 8601


class MerchantCredentials(BaseModel):
    customer_token_secret: SecretStr
    webhook_secret: SecretStr
    # Set by rotations (`customer_hub.merchants.credentials`): secrets tokens may still be signed
    # with, each until its own end (a second rotation within the hour keeps the first's promise).
    previous_customer_token_secrets: list[PreviousTokenSecret] = []

    def token_secrets(self, now: datetime) -> list[str]:
        """The secrets a customer token may be signed with at `now`: the current one first."""
        return [self.customer_token_secret.get_secret_value()] + [
            p.secret.get_secret_value() for p in self.still_valid(now)
        ]

    def still_valid(self, now: datetime) -> list[PreviousTokenSecret]:
        return [
            p for p in self.previous_customer_token_secrets if now < clock.parse_iso(p.valid_until)
        ]


def _now() -> float:
    """Cache times on the project's clock (`customer_hub.infra.clock`), so tests can move them."""
    return clock.now().timestamp()


# name → (Unix time it was read, value); misses are not cached (a secret created a moment
# later is found at once).
_cache: ExpiringLru[str, tuple[float, dict[str, Any]]] = ExpiringLru(CACHE_ENTRIES, clock=_now)


def credentials_secret_name(merchant_id: str) -> str:
    return f"{config().secrets_prefix}/merchants/{merchant_id}/credentials"


def smile_secret_name(merchant_id: str) -> str:
    return f"{config().secrets_prefix}/merchants/{merchant_id}/smile"


def secrets_unavailable() -> ServiceBusy:
    return ServiceBusy(
        "The Customer Hub cannot read its secrets right now; please retry shortly.",
        headers={"Retry-After": "1"},
    )


def _unavailable(exc: Exception) -> ServiceBusy:
    code = (
        exc.response.get("Error", {}).get("Code", "")
        if isinstance(exc, ClientError)
        else type(exc).__name__
    )
    logger.warning("Secrets Manager unavailable", extra={"aws_error": code})
    return secrets_unavailable()


def create_secret(name: str, value: dict[str, Any]) -> None:
    client("secretsmanager").create_secret(
        Name=name,
        SecretString=json.dumps(value),
        Description="customer-hub merchant secret",
    )


def put_secret(name: str, value: dict[str, Any]) -> None:
    """Create or replace a secret's value."""
    sm = client("secretsmanager")
    try:
        sm.put_secret_value(SecretId=name, SecretString=json.dumps(value))
    except sm.exceptions.ResourceNotFoundException:
        create_secret(name, value)
    _cache.pop(name)


def delete_secret(name: str) -> None:
    sm = client("secretsmanager")
    with contextlib.suppress(sm.exceptions.ResourceNotFoundException):
        sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    _cache.pop(name)


def read_secret(name: str, *, max_age: float = CACHE_SECONDS) -> dict[str, Any] | None:
    """A JSON secret, cached in the warm container for up to `max_age` seconds; None when it
    does not exist. Any other failure of Secrets Manager (throttled, unreachable, refused) is a
    503 `temporarily-unavailable` (`ServiceBusy`), never "no secret"."""
    cached = _cache.get(name)
    if not isinstance(cached, Missing) and cached[0] + max_age > _now():
        return cached[1]
    try:
        answer = client("secretsmanager").get_secret_value(SecretId=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == NOT_FOUND:
            return None
        raise _unavailable(exc) from exc
    except BotoCoreError as exc:
        raise _unavailable(exc) from exc
    try:
        value = json.loads(answer.get("SecretString") or "")
    except ValueError as exc:
        logger.error("a merchant secret is not JSON", extra={"secret": name})
        raise secrets_unavailable() from exc
    if not isinstance(value, dict):
        return None
    _cache.put(name, (_now(), value), CACHE_SECONDS)
    return value


def forget_secrets() -> None:
    _cache.clear()


def merchant_credentials(
    merchant_id: str, *, max_age: float = CACHE_SECONDS
) -> MerchantCredentials | None:
    value = read_secret(credentials_secret_name(merchant_id), max_age=max_age)
    return MerchantCredentials.model_validate(value) if value else None
