"""POST /v1/admin/smile/sync — request a Smile.io sync now (queued behind a running one)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from customer_hub.edge.http import make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.problems import SmileNotConnected
from customer_hub.schemas.admin import SmileSyncQueued
from customer_hub.smile import connection, jobs

logger = Logger()
app = make_app()


@app.post("/v1/admin/smile/sync", status_code=202)
def request_smile_sync() -> SmileSyncQueued:
    merchant_id = merchant_id_from_authorizer(app)
    if not connection.is_connected(merchant_id):
        raise SmileNotConnected("Connect Smile.io first (PUT /v1/admin/smile/connection).")
    jobs.enqueue(merchant_id, "manual")
    return SmileSyncQueued(queued=True)


handler = merchant_route(app, logger, needs=("SYNC_QUEUE_URL",))
