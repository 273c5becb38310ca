"""Smile.io: the REST client (`client`), its models and errors; the sync lives beside them.

Names are loaded on first use (PEP 562), so a function that only needs, say, the sync jobs does
not import the HTTP client and httpx at cold start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "MAX_PAGE_SIZE": "client",
    "RetryPolicy": "client",
    "SmileClient": "client",
    "Timeouts": "client",
    "SmileBadRequest": "errors",
    "SmileBusy": "errors",
    "SmileError": "errors",
    "SmileForbidden": "errors",
    "SmileInvalidResponse": "errors",
    "SmileNotFound": "errors",
    "SmileRateLimited": "errors",
    "SmileUnauthorized": "errors",
    "SmileUnavailable": "errors",
    "SmileUnprocessable": "errors",
    "Customer": "models",
    "Page": "models",
    "PointsPurchase": "models",
    "PointsSettings": "models",
    "RewardFulfillment": "models",
    "RateLimiter": "ratelimit",
    "limiter_for": "ratelimit",
}

__all__ = [
    "MAX_PAGE_SIZE",
    "Customer",
    "Page",
    "PointsPurchase",
    "PointsSettings",
    "RateLimiter",
    "RetryPolicy",
    "RewardFulfillment",
    "SmileBadRequest",
    "SmileBusy",
    "SmileClient",
    "SmileError",
    "SmileForbidden",
    "SmileInvalidResponse",
    "SmileNotFound",
    "SmileRateLimited",
    "SmileUnauthorized",
    "SmileUnavailable",
    "SmileUnprocessable",
    "Timeouts",
    "limiter_for",
]

if TYPE_CHECKING:
    from customer_hub.smile.client import MAX_PAGE_SIZE, RetryPolicy, SmileClient, Timeouts
    from customer_hub.smile.errors import (
        SmileBadRequest,
        SmileBusy,
        SmileError,
        SmileForbidden,
        SmileInvalidResponse,
        SmileNotFound,
        SmileRateLimited,
        SmileUnauthorized,
        SmileUnavailable,
        SmileUnprocessable,
    )
    from customer_hub.smile.models import (
        Customer,
        Page,
        PointsPurchase,
        PointsSettings,
        RewardFulfillment,
    )
    from customer_hub.smile.ratelimit import RateLimiter, limiter_for


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
