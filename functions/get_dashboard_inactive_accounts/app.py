"""GET /v1/dashboard/inactive-accounts?days=N — accounts that have not opened the hub lately."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Query

from customer_hub.edge.http import make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.merchants.profiles import get_merchant
from customer_hub.metrics import dashboard
from customer_hub.schemas.dashboard import InactiveAccounts

logger = Logger()
app = make_app()


@app.get("/v1/dashboard/inactive-accounts")
def inactive_accounts(
    days: Annotated[int, Query(ge=1, le=3660, description="not opened for more than N days")] = 30,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> InactiveAccounts:
    merchant = get_merchant(merchant_id_from_authorizer(app))
    return InactiveAccounts.model_validate(dashboard.inactive_accounts(merchant, days, cursor))


handler = merchant_route(app, logger)
