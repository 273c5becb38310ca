"""Builders of the events AWS hands to Lambda: HTTP API v2, authorizer, schedule, SQS, streams.

Used by the local stack and by the tests, so both exercise handlers with the same shapes.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from hubdev.aws import ACCOUNT, REGION

_TEXT_TYPES = ("application/json", "application/problem+json", "text/", "application/x-www")


def _now_strings() -> tuple[str, int]:
    moment = datetime.now(UTC)
    return moment.strftime("%d/%b/%Y:%H:%M:%S +0000"), int(moment.timestamp() * 1000)


def http_event(
    method: str,
    path: str,
    *,
    route_path: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    body: bytes | str | dict[str, Any] | None = None,
    authorizer: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) request event."""
    lowered: dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
    if isinstance(body, dict):
        body = json.dumps(body)
        lowered.setdefault("content-type", "application/json")
    raw_body: bytes | None = body.encode() if isinstance(body, str) else body
    content_type = lowered.get("content-type", "")
    encoded = raw_body is not None and not (
        content_type.startswith(_TEXT_TYPES) or content_type == ""
    )
    if raw_body is not None:
        try:
            raw_body.decode("utf-8")
        except UnicodeDecodeError:
            encoded = True
    route_key = f"{method.upper()} {route_path or path}"
    time_text, epoch = _now_strings()
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    query_params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        query_params[name] = f"{query_params[name]},{value}" if name in query_params else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time_text,
            "timeEpoch": epoch,
        },
        "isBase64Encoded": bool(encoded),
    }
    if cookies:
        event["cookies"] = cookies
    if query_params:
        event["queryStringParameters"] = query_params
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if raw_body is not None:
        event["body"] = base64.b64encode(raw_body).decode() if encoded else raw_body.decode("utf-8")
    if authorizer is not None:
        event["requestContext"]["authorizer"] = {"lambda": dict(authorizer)}
    return event


def authorizer_event(request: Mapping[str, Any]) -> dict[str, Any]:
    """The REQUEST authorizer event (payload 2.0) for an HTTP API request event."""
    route_key = request["routeKey"]
    method, _, path = route_key.partition(" ")
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:local/$default/{method}{path}",
        "identitySource": [v for k, v in request["headers"].items() if k == "authorization"],
        "routeKey": route_key,
        "rawPath": request["rawPath"],
        "rawQueryString": request["rawQueryString"],
        "headers": request["headers"],
        "queryStringParameters": request.get("queryStringParameters", {}),
        "pathParameters": request.get("pathParameters", {}),
        "requestContext": request["requestContext"],
    }


def scheduled_event(rule: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }


def sqs_event(queue_arn: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """An SQS event from messages as ReceiveMessage returns them."""
    records = []
    for message in messages:
        attributes = dict(message.get("Attributes", {}))
        attributes.setdefault("ApproximateReceiveCount", "1")
        attributes.setdefault("SentTimestamp", str(int(time.time() * 1000)))
        attributes.setdefault("SenderId", ACCOUNT)
        attributes.setdefault("ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000)))
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": attributes,
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def stream_event(stream_arn: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """A DynamoDB Streams event from records as GetRecords returns them."""
    converted = []
    for record in records:
        item = {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", REGION),
            "dynamodb": dict(record["dynamodb"]),
            "eventSourceARN": stream_arn,
        }
        created = item["dynamodb"].get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            item["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
        if record.get("userIdentity"):
            item["userIdentity"] = record["userIdentity"]
        converted.append(item)
    return {"Records": converted}
