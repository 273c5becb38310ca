"""Function configuration: environment variables read once per container.

A frozen dataclass rather than a pydantic model: every function reads it at cold start, and
building a model class there costs more than the whole lookup.

The variables template.yaml's Globals give every function (`REQUIRED`) are checked when a
function's invocation starts (`checked_config`, called by the route wrappers of
`customer_hub.edge.http`): a function deployed without one fails with `MissingConfiguration`
naming it, not at its first DynamoDB call with a table name nobody set. The defaults below serve
code run outside a function (benchmarks, scripts) that sets only what it uses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

# Every function has these (template.yaml Globals); SYNC_QUEUE_URL only the ones that enqueue.
REQUIRED = (
    "STAGE",
    "DATA_TABLE",
    "EVENTS_TABLE",
    "METRICS_TABLE",
    "IDEMPOTENCY_TABLE",
    "SECRETS_PREFIX",
    "SMILE_API_BASE_URL",
)


class MissingConfiguration(RuntimeError):
    """The function was deployed without an environment variable it needs."""


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


def missing(environment: Mapping[str, str]) -> list[str]:
    """The required variables `environment` lacks (or has empty)."""
    return [name for name in REQUIRED if not environment.get(name)]


def checked_config(environment: Mapping[str, str] = os.environ) -> Config:
    """The configuration of a function's invocation; `MissingConfiguration` naming every
    required variable that is not set."""
    absent = missing(environment)
    if absent:
        plural = "s" if len(absent) > 1 else ""
        raise MissingConfiguration(
            f"environment variable{plural} {', '.join(absent)} not set: template.yaml (Globals) "
            f"gives every function {', '.join(REQUIRED)}"
        )
    return config()
