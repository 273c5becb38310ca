"""Events-table stream → coupons used by Shopify orders (their `discount_codes`) become `used`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from customer_hub.infra import observability
from customer_hub.shoppers.coupons import mark_used_by_order

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    image = (record.dynamodb.new_image if record.dynamodb else None) or {}
    if record.event_name is None or record.event_name.name == "REMOVE":
        return
    if image.get("kind") != "order":
        return
    merchant_id, order_id = str(image["merchant_id"]), str(image["order_id"])
    for code in image.get("discount_codes") or []:
        marked = mark_used_by_order(merchant_id, str(code), order_id, str(image["created_at"]))
        if marked:
            logger.info("coupon used by order", extra={"order_id": order_id, "coupons": marked})


@logger.inject_lambda_context
@observability.traced_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failed = len(response.get("batchItemFailures") or [])
    observability.count("StreamRecordsFailed", failed, Consumer="MarkCouponsUsed")
    return response
