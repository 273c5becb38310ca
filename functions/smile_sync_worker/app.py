"""SQS FIFO consumer (batch size 1): run or resume one merchant's Smile.io sync.

A Smile failure is recorded in the merchant's sync status and the job is consumed (the next
schedule resumes from the saved cursor); an unexpected error fails the record, so SQS retries
it and finally parks it on the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from customer_hub.infra import observability
from customer_hub.infra.config import checked_at_cold_start
from customer_hub.smile import jobs

logger = Logger()
processor = SqsFifoPartialProcessor()


@logger.inject_lambda_context
@observability.traced_handler
@checked_at_cold_start("SYNC_QUEUE_URL")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    def record_handler(record: SQSRecord) -> str:
        job = jobs.parse_job(record.body)
        return jobs.run_job(job, lambda: context.get_remaining_time_in_millis() / 1000)

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
