"""Function configuration: environment variables read once per container.

A frozen dataclass rather than a pydantic model: every function reads it at cold start, and
building a model class there costs more than the whole lookup.

Every function's handler checks its variables when its first invocation starts
(`checked_at_cold_start`, the one place: the route wrappers of `customer_hub.edge.http` use it,
the other handlers are decorated with it): those template.yaml's Globals give every function
(`REQUIRED`) and those its own `Environment` adds (`SYNC_QUEUE_URL` where it enqueues). A
function deployed without one fails with `MissingConfiguration` naming it (logged as critical),
not at its first DynamoDB call with a table name nobody set. The defaults below serve code run
outside a function (benchmarks, scripts) that sets only what it uses.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

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

# Given by template.yaml only to the functions that use them (a handler names them in `also`).
PER_FUNCTION = ("SYNC_QUEUE_URL",)


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


def missing(environment: Mapping[str, str], also: tuple[str, ...] = ()) -> list[str]:
    """The required variables (and `also`) `environment` lacks (or has empty)."""
    return [name for name in (*REQUIRED, *also) if not environment.get(name)]


def checked_config(
    environment: Mapping[str, str] = os.environ, *, also: tuple[str, ...] = ()
) -> Config:
    """The configuration of a function's invocation; `MissingConfiguration` naming every
    required variable (Globals' and the function's own `also`) that is not set."""
    absent = missing(environment, also)
    if absent:
        plural = "s" if len(absent) > 1 else ""
        own = f" (and this function's {', '.join(also)})" if also else ""
        raise MissingConfiguration(
            f"environment variable{plural} {', '.join(absent)} not set: template.yaml (Globals) "
            f"gives every function {', '.join(REQUIRED)}{own}"
        )
    return config()


_logger = Logger()
_checked: set[tuple[str, ...]] = set()  # the variable sets already checked in this container

type Handler = Callable[[Any, Any], Any]


def configured(also: tuple[str, ...] = ()) -> None:
    """The function's configuration checked (once per container once it passes): a missing
    variable is logged as critical and raised, naming it, on every invocation until it is set."""
    if also in _checked:
        return
    try:
        checked_config(also=also)
    except MissingConfiguration as exc:
        _logger.critical("function misconfigured", extra={"error": str(exc)})
        raise
    _checked.add(also)


def checked_at_cold_start(
    *also: str, refuse: Callable[[MissingConfiguration], Any] | None = None
) -> Callable[[Handler], Handler]:
    """A Lambda handler that checks its configuration before anything else runs.

    `also` names the variables this function needs besides `REQUIRED`. A missing one raises
    `MissingConfiguration` (the invocation fails), or, with `refuse`, answers what `refuse`
    returns (the authorizer answers a denial, never an error). The handler's
    `required_configuration` lists what it checks (tests/infra compares it with template.yaml).
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def checked(event: Any, context: Any) -> Any:
            try:
                configured(also)
            except MissingConfiguration as exc:
                if refuse is None:
                    raise
                return refuse(exc)
            return handler(event, context)

        checked.required_configuration = (*REQUIRED, *also)  # type: ignore[attr-defined]
        return checked

    return decorate
