"""PUT /v1/admin/shopify/webhook-secret — the secret Shopify signs this shop's webhooks with."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from customer_hub.edge.http import make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.merchants.webhook_secrets import WebhookSecretRequest, set_webhook_secret

logger = Logger()
app = make_app()


@app.put("/v1/admin/shopify/webhook-secret")
def put_shopify_webhook_secret(
    request: Annotated[WebhookSecretRequest, Body(embed=False)],
) -> Response[str]:
    set_webhook_secret(merchant_id_from_authorizer(app), request.secret.get_secret_value())
    logger.info("shopify webhook secret set")
    return Response(status_code=204, body="")


handler = merchant_route(app, logger, body=True)
