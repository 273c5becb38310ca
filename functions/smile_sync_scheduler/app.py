"""Every 5 minutes (EventBridge): one sync job per connected merchant on the FIFO queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from customer_hub.infra.config import checked_at_cold_start
from customer_hub.smile import jobs

logger = Logger()


@logger.inject_lambda_context
@checked_at_cold_start("SYNC_QUEUE_URL")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    enqueued = jobs.fan_out()
    logger.info("smile sync fan-out", extra={"enqueued": enqueued})
    return {"enqueued": enqueued}
