"""hubdev.redrive's Lambda invoker: a function error keeps the batch on the queue."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from hubdev.redrive import _took_it, lambda_invoker


class FakeLambda:
    def __init__(self, payload: Any, error: str | None = None) -> None:
        self.payload, self.error = payload, error
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        answer: dict[str, Any] = {"Payload": io.BytesIO(json.dumps(self.payload).encode())}
        if self.error:
            answer["FunctionError"] = self.error
        return answer


def test_a_function_error_raises_and_a_partial_failure_is_not_taken() -> None:
    event = {"Records": [{"eventID": "1"}]}
    ok = FakeLambda({"batchItemFailures": []})
    assert _took_it(lambda_invoker(ok, "fn")(event))
    assert json.loads(ok.calls[0]["Payload"]) == event
    assert ok.calls[0]["InvocationType"] == "RequestResponse"
    partial = FakeLambda({"batchItemFailures": [{"itemIdentifier": "1"}]})
    assert not _took_it(lambda_invoker(partial, "fn")(event))
    with pytest.raises(RuntimeError, match="fn failed"):
        lambda_invoker(FakeLambda({"errorMessage": "boom"}, "Unhandled"), "fn")(event)
