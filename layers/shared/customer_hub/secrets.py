"""Per-merchant secrets in AWS Secrets Manager (never in DynamoDB, never in a log line)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from pydantic import BaseModel, SecretStr

from customer_hub.aws import client
from customer_hub.config import config

CACHE_SECONDS = 300


class MerchantCredentials(BaseModel):
    customer_token_secret: SecretStr
    webhook_secret: SecretStr


def _parameters() -> Any:
    """Powertools parameters (with its caching), imported on first use: it pulls in every
    provider (AppConfig, SSM, ...), which only the functions that read secrets should pay for."""
    from aws_lambda_powertools.utilities import parameters

    return parameters


def credentials_secret_name(merchant_id: str) -> str:
    return f"{config().secrets_prefix}/merchants/{merchant_id}/credentials"


def smile_secret_name(merchant_id: str) -> str:
    return f"{config().secrets_prefix}/merchants/{merchant_id}/smile"


def create_secret(name: str, value: dict[str, str]) -> None:
    client("secretsmanager").create_secret(
        Name=name,
        SecretString=json.dumps(value),
        Description="customer-hub merchant secret",
    )


def put_secret(name: str, value: dict[str, str]) -> None:
    """Create or replace a secret's value."""
    sm = client("secretsmanager")
    try:
        sm.put_secret_value(SecretId=name, SecretString=json.dumps(value))
    except sm.exceptions.ResourceNotFoundException:
        create_secret(name, value)
    _parameters().clear_caches()


def delete_secret(name: str) -> None:
    sm = client("secretsmanager")
    with contextlib.suppress(sm.exceptions.ResourceNotFoundException):
        sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    _parameters().clear_caches()


def read_secret(name: str, *, max_age: int = CACHE_SECONDS) -> dict[str, str] | None:
    """A JSON secret, cached in the warm container; None when it does not exist."""
    parameters = _parameters()
    try:
        value = parameters.get_secret(name, transform="json", max_age=max_age)
    except parameters.exceptions.GetParameterError:
        return None
    return value if isinstance(value, dict) else None


def merchant_credentials(merchant_id: str) -> MerchantCredentials | None:
    value = read_secret(credentials_secret_name(merchant_id))
    return MerchantCredentials.model_validate(value) if value else None
