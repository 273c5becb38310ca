"""GET /v1/dashboard/overview — see customer_hub.dashboard and API.md §Dashboard."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from customer_hub import dashboard
from customer_hub.http import make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.periods import (
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


@app.get("/v1/dashboard/overview")
def overview(
    period: PeriodParam = DEFAULT_PRESET,
    start: StartParam = None,
    end: EndParam = None,
    compare: CompareParam = DEFAULT_COMPARE,
    interval: IntervalParam = None,
) -> schemas.Overview:
    merchant, when = dashboard.request(
        merchant_id_from_authorizer(app),
        period=period,
        start=start,
        end=end,
        compare=compare,
        interval=interval,
    )
    return schemas.Overview.model_validate(dashboard.overview(merchant, when))


handler = merchant_route(app, logger)
