"""DynamoDB refusals and retries: what an error means (`failed_because`, `is_condition_failed`,
`unless_condition_failed`, `cancellation_reasons`), the backoff, the one loop for batch
requests (`until_processed`) and the one writer of transactions (`transact`).
`customer_hub.infra.store` uses them; nothing here builds a client."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

BACKOFF_BASE = 0.01  # seconds: 10, 20, 40 … ms, capped, times a random factor (full jitter)
BACKOFF_CAP = 0.5
# TransactWriteItems: attempts in all when a transaction is cancelled for a reason a retry can
# cure (a conflict with another transaction, throttling); never for a failed condition.
TRANSACTION_ATTEMPTS = 4
RETRYABLE_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
RETRYABLE_ERRORS = frozenset(
    {
        "TransactionConflictException",
        "TransactionInProgressException",
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
    }
)


def failed_because(exc: ClientError, code: str) -> bool:
    """Whether DynamoDB refused the request with this error code (e.g.
    `ConditionalCheckFailedException`, `TransactionCanceledException`)."""
    return bool(exc.response.get("Error", {}).get("Code") == code)


def is_condition_failed(exc: BaseException) -> bool:
    """Whether DynamoDB refused a write because its condition failed: a single write's
    ConditionalCheckFailedException, or a transaction cancelled with a ConditionalCheckFailed
    reason."""
    if not isinstance(exc, ClientError):
        return False
    if failed_because(exc, "ConditionalCheckFailedException"):
        return True
    return "ConditionalCheckFailed" in cancellation_reasons(exc)


def unless_condition_failed[T](write: Callable[[], T]) -> T | None:
    """What the write returns; None when DynamoDB refused it for its condition."""
    try:
        return write()
    except ClientError as exc:
        if is_condition_failed(exc):
            return None
        raise


def cancellation_reasons(exc: ClientError) -> list[str]:
    """The reason codes of a cancelled transaction, one per operation (`None` where that one
    was fine); empty for any other error or when DynamoDB did not say."""
    if not failed_because(exc, "TransactionCanceledException"):
        return []
    return [str(r.get("Code") or "None") for r in exc.response.get("CancellationReasons") or []]


def backoff(attempt: int) -> None:
    """Sleep before attempt `attempt + 1`: exponential, capped, with full jitter."""
    time.sleep(min(BACKOFF_CAP, BACKOFF_BASE * (2**attempt)) * random.random())


def until_processed(
    request: dict[str, Any], send: Callable[[dict[str, Any]], dict[str, Any]]
) -> int:
    """The one loop for DynamoDB batch requests: send, then send what came back unprocessed
    (DynamoDB's answer under throttling) after an exponential backoff with jitter, until
    nothing is left. Every item is sent until accepted: a batch never drops one. Returns the
    requests sent."""
    attempt = 0
    while request:
        request = send(request)
        attempt += 1
        if request:
            backoff(attempt - 1)
    return attempt


def _retryable(exc: ClientError) -> bool:
    reasons = cancellation_reasons(exc)
    if reasons:
        return "ConditionalCheckFailed" not in reasons and bool(RETRYABLE_REASONS & set(reasons))
    return any(failed_because(exc, code) for code in RETRYABLE_ERRORS)


def transact(
    send: Callable[..., Any], operations: list[dict[str, Any]], token: str | None = None
) -> int:
    """The one writer of DynamoDB transactions: `send` (a client's `transact_write_items`)
    with one ClientRequestToken for every attempt, so an attempt that did commit (its answer
    lost) is not applied twice; a transaction cancelled by a conflict or throttling (never by a
    failed condition) is sent again after an exponential backoff with jitter, up to
    `TRANSACTION_ATTEMPTS` in all, then the last error is raised. Returns the requests sent."""
    request = {"TransactItems": operations, "ClientRequestToken": token or str(uuid.uuid4())}
    attempt = 0
    while True:
        attempt += 1
        try:
            send(**request)
        except ClientError as exc:
            if attempt == TRANSACTION_ATTEMPTS or not _retryable(exc):
                raise
            backoff(attempt - 1)
        else:
            return attempt
