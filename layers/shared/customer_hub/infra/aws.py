"""AWS clients, created once per container. boto3 reads AWS_ENDPOINT_URL itself (local stack)."""

from __future__ import annotations

import json
import os
import sys
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


# ---------------------------------------------------------------- IAM proven by use (tests only)
# What names the resources of a call, kept from its parameters (never values: no item, no
# secret string). devtools/hubdev/iam.py turns it into IAM actions and resource ARNs.
_RESOURCE_PARAMETERS = (
    "TableName",
    "IndexName",
    "QueueUrl",
    "QueueName",
    "SecretId",
    "Name",
    "StreamArn",
)


def call_record(model: Any, params: dict[str, Any]) -> dict[str, Any]:
    """One AWS call as the IAM-by-use check reads it: service, operation, resource names."""
    names: dict[str, Any] = {
        k: params[k] for k in _RESOURCE_PARAMETERS if isinstance(params.get(k), str)
    }
    if isinstance(params.get("ShardIterator"), str):  # "<stream arn>|1|..." (DynamoDB Streams)
        names["ShardIterator"] = params["ShardIterator"].split("|", 1)[0]
    if isinstance(params.get("RequestItems"), dict):
        names["RequestItems"] = sorted(params["RequestItems"])
    if isinstance(params.get("TransactItems"), list):
        names["TransactItems"] = [
            [kind, body.get("TableName")]
            for item in params["TransactItems"]
            for kind, body in item.items()
            if isinstance(body, dict)
        ]
    return {
        "service": model.service_model.signing_name,
        "operation": model.name,
        "names": names,
    }


def _print_call(model: Any = None, params: Any = None, **_: Any) -> None:
    if model is not None and isinstance(params, dict):
        line = json.dumps(call_record(model, params), separators=(",", ":"))
        # One write per record, newline included: print() writes the text and its newline
        # separately, and the records of a function's threads would share lines.
        sys.stderr.write(f"CHUB_AWS_CALL {line}\n")
        sys.stderr.flush()


# Set only by `make sam-local` (devtools/hubdev/samlocal.py), never by template.yaml: each
# container prints its AWS calls to stderr for the IAM-by-use check (tests/infra checks that the
# template never declares it). Registered for every botocore session, Powertools' included.
if os.environ.get("CHUB_AWS_CALL_LOG") == "stderr":
    from botocore.handlers import BUILTIN_HANDLERS

    BUILTIN_HANDLERS.append(("before-parameter-build", _print_call))


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
