"""DELETE /v1/admin/smile/connection — forget the Smile.io key and stop syncing."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response

from customer_hub.edge.http import make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.smile import connection

logger = Logger()
app = make_app()


@app.delete("/v1/admin/smile/connection")
def delete_smile_connection() -> Response[str]:
    connection.disconnect(merchant_id_from_authorizer(app))
    logger.info("smile disconnected")
    return Response(status_code=204, body="")


handler = merchant_route(app, logger)
