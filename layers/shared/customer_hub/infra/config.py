"""Function configuration: environment variables read once per container.

A frozen dataclass rather than a pydantic model: every function reads it at cold start, and
building a model class there costs more than the whole lookup.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache


def _env(name: str, default: str) -> str:
    return field(default_factory=lambda: os.environ.get(name, default))


@dataclass(frozen=True)
class Config:
    stage: str = _env("STAGE", "local")
    data_table: str = _env("DATA_TABLE", "customer-hub-data")
    events_table: str = _env("EVENTS_TABLE", "customer-hub-events")
    metrics_table: str = _env("METRICS_TABLE", "customer-hub-metrics")
    idempotency_table: str = _env("IDEMPOTENCY_TABLE", "customer-hub-idempotency")
    sync_queue_url: str = _env("SYNC_QUEUE_URL", "")
    secrets_prefix: str = _env("SECRETS_PREFIX", "customer-hub/local")
    smile_api_base_url: str = _env("SMILE_API_BASE_URL", "https://api.smile.io/v1")


@cache
def config() -> Config:
    return Config()
