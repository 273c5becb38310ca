"""Which AWS errors are a retryable 503 (`customer_hub.infra.aws.is_transient`), which stay bugs."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError

from customer_hub.infra.aws import is_transient


def _error(code: str, status: int = 400, **extra: Any) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
        **extra,
    }
    return ClientError(response, "PutItem")


def test_throttling_and_unreachable_are_transient_conditional_failures_are_not() -> None:
    assert is_transient(_error("ProvisionedThroughputExceededException"))
    assert is_transient(_error("ThrottlingException"))
    assert is_transient(_error("InternalServerError", 500))
    assert is_transient(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    throttled = [{"Code": "None"}, {"Code": "ThrottlingError"}]
    assert is_transient(_error("TransactionCanceledException", CancellationReasons=throttled))
    conditional = [{"Code": "ConditionalCheckFailed"}, {"Code": "TransactionConflict"}]
    assert not is_transient(_error("TransactionCanceledException", CancellationReasons=conditional))
    assert not is_transient(_error("ConditionalCheckFailedException"))
    assert not is_transient(_error("ValidationException"))
    assert not is_transient(ParamValidationError(report="bad"))
    assert not is_transient(ValueError("not AWS"))
