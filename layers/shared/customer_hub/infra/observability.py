"""What an operator watches: CloudWatch metrics (EMF, Powertools Metrics) and X-Ray traces.

**Metrics** (namespace `CustomerHub`, dimension `service` plus the ones named): each `count`
prints one embedded-metric-format line that CloudWatch Logs turns into a metric — no API call,
no permission. Emitted: `Redemptions` by `Outcome`, `SmileRequests` by `Outcome`
(`ok`, `client_error`, `failed`: the alarm of template.yaml divides failed by all),
`SmileSyncPages`, `SmileSyncCustomers`, `SmileSyncRuns` by `Outcome`, `RollupRecords`,
`RollupRecordsUnreadable`, `StreamRecordsFailed` by `Consumer` (records a stream consumer
reported failed; after the retries Lambda parks them on the OnFailure queue, which alarms).

**Traces**: with `Tracing: Active` Lambda records each invocation; `traced` adds subsegments
(the handler, each Smile.io request) through Powertools' Tracer, which imports the X-Ray SDK.
That import costs cold start time, so the Tracer is made on first use and only where tracing
is on: in Lambda, not under `sam local`, not with POWERTOOLS_TRACE_DISABLED=true (the rules of
Powertools' own Tracer) — the tests and `hub dev` never import the SDK.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, wraps
from typing import Any

NAMESPACE = "CustomerHub"


def count(metric: str, value: float = 1, **dimensions: str) -> None:
    """Add `value` to a count metric now (one EMF line)."""
    if value <= 0:
        return
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    service = os.environ.get("POWERTOOLS_SERVICE_NAME", "customer-hub")
    with single_metric(
        name=metric,
        unit=MetricUnit.Count,
        value=value,
        namespace=NAMESPACE,
        default_dimensions={"service": service, **dimensions},
    ):
        pass


def tracing_enabled() -> bool:
    """Powertools' rule: in Lambda, not in SAM local / Chalice, not disabled by env."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true")
    in_lambda = bool(os.environ.get("LAMBDA_TASK_ROOT"))
    emulated = bool(os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE"))
    return in_lambda and not emulated and not disabled


@cache
def tracer() -> Any | None:
    """Powertools' Tracer (patches botocore: AWS calls become subsegments), or None."""
    if not tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer

    return Tracer()


@contextmanager
def traced(name: str, **annotations: str | int | bool) -> Iterator[None]:
    """An X-Ray subsegment around the block (nothing when tracing is off)."""
    active = tracer()
    if active is None:
        yield
        return
    with active.provider.in_subsegment(name) as subsegment:
        for key, value in annotations.items():
            subsegment.put_annotation(key, value)
        yield


_cold = [True]


def traced_handler[**P, R](handler: Callable[P, R]) -> Callable[P, R]:
    """The handler as a `## handler` subsegment with a ColdStart annotation."""

    @wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if tracer() is None:
            return handler(*args, **kwargs)
        cold, _cold[0] = _cold[0], False
        with traced("## handler", ColdStart=cold):
            return handler(*args, **kwargs)

    return wrapper
