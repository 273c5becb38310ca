"""POST /v1/admin/smile/sync — request a Smile.io sync now (queued behind a running one)."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response

from customer_hub.http import json_response, make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.problems import SmileNotConnected
from customer_hub.smile import connection, jobs

logger = Logger()
app = make_app()


@app.post("/v1/admin/smile/sync")
def request_smile_sync() -> Response[str]:
    merchant_id = merchant_id_from_authorizer(app)
    if not connection.is_connected(merchant_id):
        raise SmileNotConnected("Connect Smile.io first (PUT /v1/admin/smile/connection).")
    jobs.enqueue(merchant_id, "manual")
    return json_response(202, {"queued": True})


handler = merchant_route(app, logger)
