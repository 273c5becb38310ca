"""The dashboard routes that take a period and answer one figure (overview, service
interactions, average order value): their query parameters, and so their OpenAPI operation,
defined once for the functions that serve them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from customer_hub.edge.http import merchant_id_from_authorizer
from customer_hub.merchants.profiles import Merchant
from customer_hub.metrics import dashboard
from customer_hub.metrics.periods import (
    DEFAULT_COMPARE,
    DEFAULT_PRESET,
    CompareParam,
    DashboardPeriod,
    EndParam,
    IntervalParam,
    PeriodParam,
    StartParam,
)
from customer_hub.schemas import ResponseModel


def period_route(
    app: APIGatewayHttpResolver,
    path: str,
    name: str,
    model: type[ResponseModel],
    figure: Callable[[Merchant, DashboardPeriod], dict[str, Any]],
) -> None:
    """Register GET `path` on `app`: the merchant's period resolved, `figure` as `model`.

    `name` is the operation's function name (it makes the OpenAPI operationId)."""

    def route(
        period: PeriodParam = DEFAULT_PRESET,
        start: StartParam = None,
        end: EndParam = None,
        compare: CompareParam = DEFAULT_COMPARE,
        interval: IntervalParam = None,
    ) -> ResponseModel:
        merchant, when = dashboard.request(
            merchant_id_from_authorizer(app),
            period=period,
            start=start,
            end=end,
            compare=compare,
            interval=interval,
        )
        return model.model_validate(figure(merchant, when))

    route.__name__ = route.__qualname__ = name
    route.__annotations__["return"] = model
    app.get(path)(route)
