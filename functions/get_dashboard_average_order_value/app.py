"""GET /v1/dashboard/average-order-value — see customer_hub.dashboard and API.md §Dashboard."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from customer_hub import clock, dashboard
from customer_hub.http import make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.merchants import get_merchant
from customer_hub.periods import (
    DEFAULT_COMPARE,
    DEFAULT_PRESET,
    CompareParam,
    EndParam,
    IntervalParam,
    PeriodParam,
    StartParam,
    resolve_period,
)

logger = Logger()
app = make_app()


@app.get("/v1/dashboard/average-order-value")
def average_order_value(
    period: PeriodParam = DEFAULT_PRESET,
    start: StartParam = None,
    end: EndParam = None,
    compare: CompareParam = DEFAULT_COMPARE,
    interval: IntervalParam = None,
) -> dict[str, Any]:
    merchant = get_merchant(merchant_id_from_authorizer(app))
    when = resolve_period(
        timezone=merchant.timezone,
        now=clock.now(),
        period=period,
        start=start,
        end=end,
        compare=compare,
        interval=interval,
    )
    return dashboard.average_order_value(merchant, when)


handler = merchant_route(app, logger)
