"""A second reference: the same handler behind a bare Powertools HTTP API resolver with request
validation and one route — the framework cost every route function carries before our code."""

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

logger = Logger()
dynamodb = boto3.client("dynamodb")
app = APIGatewayHttpResolver(enable_validation=True)


@app.get("/v1/ping")
def ping(name: str = "") -> dict[str, Any]:
    return {"name": name}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
