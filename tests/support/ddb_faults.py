"""DynamoDB faults injected with botocore event hooks into chosen functions of the local stack.

The hooks sit on the DynamoDB client every function shares (`customer_hub.infra.aws.client`) and
fire only while one of the target functions runs (the stack's runtime is wrapped to mark the
thread). Faults, at seeded random rates per request:

- **throttled, retried by the SDK** (`before-send`): a 400 `ProvisionedThroughputExceeded` /
  `ThrottlingException` answer; botocore's standard retry mode backs off and sends again;
- **throttled past the SDK's retries** (`before-call`): the error reaches the function's code;
- **transaction cancelled** (`before-call`, TransactWriteItems): `TransactionCanceledException`
  whose reasons are `ThrottlingError` / `TransactionConflict`, as DynamoDB answers when a
  transaction is throttled or collides with another writer;
- **response lost after the write** (`before-send`): the request really reaches DynamoDB and is
  applied, then the answer "times out" (`ReadTimeoutError`); the SDK sends it again, so the
  second copy meets the first one's effect (a genuine ConditionalCheckFailed, or a second ADD);
- **response lost past the SDK's retries** (`after-call`): the write is applied, the function's
  code sees an error — the hardest case for exactly-once;
- **unprocessed batch** (`before-send`, BatchWriteItem / BatchGetItem): a 200 answer returning
  every item or key as unprocessed, as DynamoDB does under throttling;
- **outage**: every request of a run of invocations is throttled past the SDK's retries, long
  enough for records to exhaust the event source's retries.

Real conditional-check failures are counted as they come back (`seen` figures).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from botocore.retries import standard

from customer_hub.infra.aws import client
from hubdev.stack import LocalStack

THROTTLES = ("ProvisionedThroughputExceededException", "ThrottlingException")
BATCH_OPERATIONS = ("BatchWriteItem", "BatchGetItem")


@dataclass
class FaultRates:
    """Probabilities per DynamoDB request made by a target function."""

    throttled_retried: float = 0.0
    throttled_exhausted: float = 0.0
    transaction_cancelled: float = 0.0
    lost_response_retried: float = 0.0
    lost_response_exhausted: float = 0.0
    unprocessed: float = 0.0
    # Invocation numbers (1-based, counted for each target function) where every request fails.
    outage: range = range(0)
    # Operations that may fail (None: every operation).
    operations: frozenset[str] | None = None


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _answer(url: str, status: int, body: dict[str, Any]) -> AWSResponse:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "Content-Length": str(len(raw))}
    return AWSResponse(url, status, headers, _Raw(raw))


class _Http:
    """What `before-call` may return as the HTTP part of a short-circuited call."""

    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


def _error(code: str, message: str, **extra: Any) -> tuple[_Http, dict[str, Any]]:
    status = 500 if code == "InternalServerError" else 400
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 0},
        **extra,
    }
    return _Http(status), parsed


@dataclass
class DynamoFaults:
    """Injects faults into the target functions' DynamoDB requests; counts what it did."""

    stack: LocalStack
    functions: tuple[str, ...]
    rates: FaultRates
    seed: int = 7
    injected: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)
    invocations: Counter[str] = field(default_factory=Counter)
    failed_invocations: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._client = client("dynamodb")

    # -------------------------------------------------------------- scope
    def _active(self) -> str | None:
        return getattr(self._local, "function", None)

    def _roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def _eligible(self, operation: str) -> bool:
        if self._active() is None:
            return False
        allowed = self.rates.operations
        return allowed is None or operation in allowed

    def _in_outage(self) -> bool:
        return bool(getattr(self._local, "outage", False))

    def _throttle_code(self) -> str:
        with self._lock:
            return self._rng.choice(THROTTLES)

    # -------------------------------------------------------------- hooks
    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        operation = model.name
        if not self._eligible(operation):
            return None
        if self._in_outage():
            self.injected["outage: throttled requests"] += 1
            return _error("ProvisionedThroughputExceededException", "injected: outage")
        if operation == "TransactWriteItems" and self._roll(self.rates.transaction_cancelled):
            items = json.loads(params["body"]).get("TransactItems", [])
            with self._lock:
                reasons = [{"Code": "None"} for _ in items]
                reasons[self._rng.randrange(len(reasons))] = {
                    "Code": self._rng.choice(("ThrottlingError", "TransactionConflict")),
                    "Message": "injected",
                }
            self.injected["transactions cancelled (ThrottlingError/TransactionConflict)"] += 1
            return _error(
                "TransactionCanceledException",
                "Transaction cancelled (injected)",
                CancellationReasons=reasons,
            )
        if self._roll(self.rates.throttled_exhausted):
            self.injected["throttled past the SDK's retries"] += 1
            return _error(self._throttle_code(), "injected: throttled, SDK retries exhausted")
        return None

    def _before_send(self, request: Any, event_name: str = "", **_: Any) -> Any:
        operation = event_name.rsplit(".", 1)[-1]
        if not self._eligible(operation) or self._in_outage():
            return None
        if operation in BATCH_OPERATIONS and self._roll(self.rates.unprocessed):
            self.injected["batch requests answered all-unprocessed"] += 1
            wanted = json.loads(request.body)["RequestItems"]
            body = (
                {"UnprocessedItems": wanted}
                if operation == "BatchWriteItem"
                else {"Responses": {}, "UnprocessedKeys": wanted}
            )
            return _answer(request.url, 200, body)
        if self._roll(self.rates.throttled_retried):
            self.injected["throttled, retried by the SDK"] += 1
            code = self._throttle_code()
            body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}
            return _answer(request.url, 400, body)
        if self._roll(self.rates.lost_response_retried):
            self.injected["responses lost after the write, resent by the SDK"] += 1
            self._client._endpoint.http_session.send(request)  # DynamoDB applies it
            raise ReadTimeoutError(endpoint_url=request.url)
        return None

    def _after_call(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if self._active() is None:
            return
        code = (parsed.get("Error") or {}).get("Code")
        reasons = [r.get("Code") for r in parsed.get("CancellationReasons") or []]
        conditional = code == "ConditionalCheckFailedException" or (
            "ConditionalCheckFailed" in reasons
        )
        if conditional and "injected" not in str(parsed):
            self.seen["conditional-check failures met (real)"] += 1
        if code or not self._eligible(model.name) or self._in_outage():
            return
        if model.name not in ("GetItem", "Query", "BatchGetItem") and self._roll(
            self.rates.lost_response_exhausted
        ):
            self.injected["writes applied, response lost past the SDK's retries"] += 1
            raise ReadTimeoutError(endpoint_url=f"dynamodb {model.name}")

    # -------------------------------------------------------------- installation
    @contextmanager
    def installed(self) -> Iterator[DynamoFaults]:
        with pytest.MonkeyPatch.context() as monkeypatch:
            yield from self._install(monkeypatch)

    def _install(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoFaults]:
        runtime = self.stack.runtime
        original = runtime.invoke

        def invoke(logical_id: str, event: Any) -> Any:
            if logical_id not in self.functions:
                return original(logical_id, event)
            with self._lock:
                self.invocations[logical_id] += 1
                outage = self.invocations[logical_id] in self.rates.outage
            self._local.function, self._local.outage = logical_id, outage
            try:
                response = original(logical_id, event)
            except Exception:
                self.failed_invocations += 1
                raise
            finally:
                self._local.function, self._local.outage = None, False
            if isinstance(response, dict) and response.get("batchItemFailures"):
                self.failed_invocations += 1
            return response

        monkeypatch.setattr(runtime, "invoke", invoke)
        # Botocore's backoff for throttling is up to 1, 2, 4 s: a hundredth of it here.
        backoff = standard.ExponentialBackoff.delay_amount
        monkeypatch.setattr(
            standard.ExponentialBackoff,
            "delay_amount",
            lambda self_, context: backoff(self_, context) / 100,
        )
        events = self._client.meta.events
        hooks = [
            ("before-call.dynamodb", self._before_call, "fault-before-call"),
            ("before-send.dynamodb", self._before_send, "fault-before-send"),
            ("after-call.dynamodb", self._after_call, "fault-after-call"),
        ]
        for name, hook, unique in hooks:
            events.register_first(name, hook, unique_id=unique)
        try:
            yield self
        finally:
            for name, _hook, unique in hooks:
                events.unregister(name, unique_id=unique)

    @property
    def total_injected(self) -> int:
        return sum(self.injected.values())
