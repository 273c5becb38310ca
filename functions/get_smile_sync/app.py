"""GET /v1/admin/smile/sync — the merchant's sync status and last results."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from customer_hub.edge.http import make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.schemas.admin import SmileSyncStatus
from customer_hub.smile.sync import load_state

logger = Logger()
app = make_app()


@app.get("/v1/admin/smile/sync")
def get_smile_sync() -> SmileSyncStatus:
    return SmileSyncStatus.model_validate(load_state(merchant_id_from_authorizer(app)).report())


handler = merchant_route(app, logger)
