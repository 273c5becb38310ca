"""AWS clients, created once per container. boto3 reads AWS_ENDPOINT_URL itself (local stack)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

_BOTO_CONFIG = BotoConfig(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=2,
    read_timeout=5,
    max_pool_connections=50,
)


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_BOTO_CONFIG)  # type: ignore[call-overload]


# Errors an AWS service answers when it is briefly unable to take a request (throttling,
# capacity, a conflicting transaction): the request may succeed if sent again later.
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
    }
)
_TRANSIENT_REASONS = frozenset({"ThrottlingError", "TransactionConflict"})


def is_transient(exc: BaseException) -> bool:
    """A throttled / briefly unavailable AWS call (SDK retries included), or a lost answer."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in TRANSIENT_CODES:
            return True
        if code == "TransactionCanceledException":
            reasons = {str(r.get("Code")) for r in exc.response.get("CancellationReasons") or []}
            return bool(reasons & _TRANSIENT_REASONS) and reasons <= _TRANSIENT_REASONS | {"None"}
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return status >= 500
    return isinstance(exc, BotoConnectionError | HTTPClientError)
