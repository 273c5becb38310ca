"""Smile.io: the REST client (`client`), its models and errors; the sync lives beside them."""

from customer_hub.smile.client import MAX_PAGE_SIZE, RetryPolicy, SmileClient, Timeouts
from customer_hub.smile.errors import (
    SmileBadRequest,
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
