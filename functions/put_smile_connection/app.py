"""PUT /v1/admin/smile/connection — verify a Smile.io API key, store it as a secret, sync."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body

from customer_hub.edge.http import make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.schemas.admin import SmileConnected
from customer_hub.smile import connection, jobs

logger = Logger()
app = make_app()


@app.put("/v1/admin/smile/connection")
def put_smile_connection(
    request: Annotated[connection.SmileConnectionRequest, Body(embed=False)],
) -> SmileConnected:
    merchant_id = merchant_id_from_authorizer(app)
    connection.connect(merchant_id, request.api_key)
    try:
        jobs.enqueue(merchant_id, "connect")
    except Exception:  # the 5-minute schedule syncs it anyway
        logger.exception("first sync not enqueued")
    logger.info("smile connected")
    return SmileConnected(connected=True)


handler = merchant_route(app, logger, needs=("SYNC_QUEUE_URL",), body=True)
