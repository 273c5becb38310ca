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
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from customer_hub.infra import observability
from customer_hub.infra.config import checked_at_cold_start
from customer_hub.metrics.stream import new_image
from customer_hub.shoppers.coupons import mark_used_by_order

logger = Logger()
# Records are parsed with the parser model in the handler, not by the processor: Powertools
# 3.37 fails the whole batch when a record does not validate against a processor's model.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    parsed = DynamoDBStreamRecordModel.model_validate(record.raw_event)
    if parsed.eventName == "REMOVE":
        return
    image = new_image(parsed)
    if image.get("kind") != "order":
        return
    merchant_id, order_id = str(image["merchant_id"]), str(image["order_id"])
    for code in image.get("discount_codes") or []:
        marked = mark_used_by_order(merchant_id, str(code), order_id, str(image["created_at"]))
        if marked:
            logger.info("coupon used by order", extra={"order_id": order_id, "coupons": marked})


@logger.inject_lambda_context
@observability.traced_handler
@checked_at_cold_start()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failed = len(response.get("batchItemFailures") or [])
    observability.count("StreamRecordsFailed", failed, Consumer="MarkCouponsUsed")
    return response
