"""A stream consumer for the local-stack tests: fails chosen records a chosen number of times."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
attempts: Counter[str] = Counter()
processed: list[str] = []


def record_handler(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else {}
    if image.get("pk") != "T":
        return
    name = str(image["sk"])
    attempts[name] += 1
    if attempts[name] <= int(image.get("fail_times", 0)):
        raise RuntimeError(f"injected failure of {name}")
    processed.append(name)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event, record_handler, processor, context)
