"""Secrets Manager and SQS faults injected with botocore event hooks on the clients every function
shares (`customer_hub.infra.aws.client`), as tests/support/ddb_faults.py does for DynamoDB.

While installed, every request of the chosen service fails with one kind of fault:

- **throttled**: a 400 `ThrottlingException` (SQS: `RequestThrottled`) past the SDK's retries;
- **internal error**: a 500 `InternalServiceError` (SQS: `InternalError`), past the retries;
- **lost**: the connection drops before an answer (`ReadTimeoutError` on every attempt the
  SDK makes), as when the service is unreachable.

Each fault is counted by service and kind (`injected`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.retries import standard

from customer_hub.infra.aws import client

Kind = Literal["throttled", "internal error", "lost"]
KINDS: tuple[Kind, ...] = ("throttled", "internal error", "lost")
_CODES = {
    "secretsmanager": {
        "throttled": "ThrottlingException",
        "internal error": "InternalServiceError",
    },
    "sqs": {"throttled": "RequestThrottled", "internal error": "InternalError"},
}
_EVENT_NAMES = {"secretsmanager": "secrets-manager", "sqs": "sqs"}


class _Http:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


@dataclass
class AwsFaults:
    """`with faults.failing("secretsmanager", "throttled"): ...` — every call of that service
    fails that way until the block ends."""

    injected: Counter[str] = field(default_factory=Counter)
    _active: tuple[str, Kind] | None = None

    def _before_call(self, model: Any, **_: Any) -> Any:
        if self._active is None:
            return None
        service, kind = self._active
        if kind == "lost":
            return None
        self.injected[f"{service}: {kind}"] += 1
        code = _CODES[service][kind]
        status = 500 if kind == "internal error" else 400
        parsed = {
            "Error": {"Code": code, "Message": f"injected: {kind} ({model.name})"},
            "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 3},
        }
        return _Http(status), parsed

    def _before_send(self, request: Any, **_: Any) -> Any:
        if self._active is None or self._active[1] != "lost":
            return None
        self.injected[f"{self._active[0]}: lost"] += 1
        raise ReadTimeoutError(endpoint_url=request.url)

    @contextmanager
    def failing(self, service: str, kind: Kind) -> Iterator[None]:
        self._active = (service, kind)
        try:
            yield
        finally:
            self._active = None

    @contextmanager
    def installed(self) -> Iterator[AwsFaults]:
        with pytest.MonkeyPatch.context() as monkeypatch:
            backoff = standard.ExponentialBackoff.delay_amount
            monkeypatch.setattr(
                standard.ExponentialBackoff,
                "delay_amount",
                lambda self_, context: backoff(self_, context) / 100,
            )
            hooks = []
            for service, event_name in _EVENT_NAMES.items():
                events = client(service).meta.events
                for stage, hook in (
                    ("before-call", self._before_call),
                    ("before-send", self._before_send),
                ):
                    name, unique = f"{stage}.{event_name}", f"aws-fault-{stage}-{service}"
                    events.register_first(name, hook, unique_id=unique)
                    hooks.append((events, name, unique))
            try:
                yield self
            finally:
                for events, name, unique in hooks:
                    events.unregister(name, unique_id=unique)
