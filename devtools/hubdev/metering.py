"""Counts the AWS requests made in process (cost tests and benchmarks read it)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from customer_hub.infra.aws import client


class RequestMeter:
    """Operation → how many requests the shared boto3 client sent while metering."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _count(self, model: Any = None, **_kwargs: Any) -> None:
        with self._lock:
            self.calls[model.name if model is not None else "?"] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@contextmanager
def metering(service: str = "dynamodb") -> Iterator[RequestMeter]:
    meter = RequestMeter()
    events = client(service).meta.events
    events.register(f"before-call.{service}", meter._count, unique_id=f"meter-{id(meter)}")
    try:
        yield meter
    finally:
        events.unregister(f"before-call.{service}", unique_id=f"meter-{id(meter)}")
