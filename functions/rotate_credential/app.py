"""POST /v1/admin/credentials/{name}/rotate — a new API key or customer token secret."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from customer_hub.edge.http import make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.identity import bearer_token
from customer_hub.merchants import credentials
from customer_hub.schemas.admin import CredentialRotated

logger = Logger()
app = make_app()


@app.post("/v1/admin/credentials/<name>/rotate")
def rotate_credential(
    name: Annotated[credentials.CredentialName, Path()],
) -> Response[CredentialRotated]:
    merchant_id = merchant_id_from_authorizer(app)
    presented = bearer_token(app.current_event.headers.get("authorization"))
    rotated = credentials.rotate(merchant_id, name, presented)
    logger.info("credential rotated", extra={"credential": name})  # never the value
    return Response(
        status_code=200,
        content_type="application/json",
        body=CredentialRotated.model_validate(rotated),
        headers={"Cache-Control": "no-store"},
    )


handler = merchant_route(app, logger)
