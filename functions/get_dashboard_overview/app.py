"""GET /v1/dashboard/overview — see customer_hub.metrics.dashboard."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from customer_hub.edge.dashboard_routes import period_route
from customer_hub.edge.http import make_app, merchant_route
from customer_hub.metrics import dashboard
from customer_hub.schemas import dashboard as schemas

logger = Logger()
app = make_app()
period_route(app, "/v1/dashboard/overview", "overview", schemas.Overview, dashboard.overview)

handler = merchant_route(app, logger)
