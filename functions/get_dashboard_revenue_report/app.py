"""GET /v1/dashboard/revenue-report — the attributed order lines behind revenue generated."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Query

from customer_hub.edge.http import make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.metrics import dashboard
from customer_hub.metrics.periods import (
    DEFAULT_COMPARE,
    DEFAULT_PRESET,
    CompareParam,
    EndParam,
    IntervalParam,
    PeriodParam,
    StartParam,
)
from customer_hub.schemas import dashboard as schemas

logger = Logger()
app = make_app()


@app.get("/v1/dashboard/revenue-report")
def revenue_report(
    period: PeriodParam = DEFAULT_PRESET,
    start: StartParam = None,
    end: EndParam = None,
    compare: CompareParam = DEFAULT_COMPARE,
    interval: IntervalParam = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> schemas.RevenueReport:
    merchant, when = dashboard.request(
        merchant_id_from_authorizer(app),
        period=period,
        start=start,
        end=end,
        compare=compare,
        interval=interval,
    )
    return schemas.RevenueReport.model_validate(dashboard.revenue_report(merchant, when, cursor))


handler = merchant_route(app, logger)
