"""Events-table stream → metric roll-ups (partial batch responses; customer_hub.metrics.rollups)."""

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
from customer_hub.infra.config import checked_at_cold_start
from customer_hub.metrics.dynamo_store import DynamoMetricsStore
from customer_hub.metrics.rollups import BatchOutcome, apply_stream_batch

logger = Logger()
# Records are parsed with Powertools' parser model in apply_stream_batch (metrics.stream), not
# by the processor: Powertools 3.37 fails the whole batch when a record does not validate
# against a processor's model; here only the unreadable records are reported.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@logger.inject_lambda_context
@observability.traced_handler
@checked_at_cold_start()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The batch is applied as a whole (coalesced writes); a failed write raises, so Lambda
    # bisects and retries it. Unreadable records are reported one by one.
    records = event.get("Records", [])
    outcome: BatchOutcome = apply_stream_batch(records, DynamoMetricsStore())

    def confirm(record: DynamoDBRecord) -> None:
        outcome.check(str(record.dynamodb.sequence_number if record.dynamodb else ""))

    response = process_partial_response(event, confirm, processor, context)
    observability.count("RollupRecords", outcome.applied)
    observability.count("RollupRecordsUnreadable", len(outcome.unreadable))
    failed = len(response.get("batchItemFailures") or [])
    observability.count("StreamRecordsFailed", failed, Consumer="MetricRollups")
    return response
