"""GET /v1/admin/settings — the merchant's settings."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from customer_hub.edge.http import make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.merchants.profiles import get_merchant
from customer_hub.schemas.admin import Settings

logger = Logger()
app = make_app()


@app.get("/v1/admin/settings")
def get_settings() -> Settings:
    return Settings.model_validate(get_merchant(merchant_id_from_authorizer(app)).settings_json())


handler = merchant_route(app, logger)
