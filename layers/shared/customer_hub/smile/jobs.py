"""Sync jobs on the SQS FIFO queue: one message group per merchant.

The queue is what makes "at most one sync per merchant, merchants in parallel" true: FIFO
delivers a group's next message only after the previous one is deleted, and the worker
(batch size 1) scales out across groups. The scheduler's deduplication id names the merchant
and the 5-minute slot, so a repeated fan-out in one slot enqueues nothing new.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from customer_hub.infra import clock, observability
from customer_hub.infra.aws import client
from customer_hub.infra.config import config
from customer_hub.problems import ServiceBusy
from customer_hub.smile import connection
from customer_hub.smile.client import SmileClient
from customer_hub.smile.sync import Outcome, Sync, stop_run

log = logging.getLogger("customer_hub.smile.jobs")

SLOT_SECONDS = 300
FAN_OUT_THREADS = 8
Reason = Literal["schedule", "manual", "connect", "continue"]

# Keyword arguments for every SmileClient the worker builds (tests shorten the backoff).
client_options: dict[str, Any] = {}
# Keyword arguments for every Sync the worker runs (tests and benchmarks shrink pages).
sync_options: dict[str, Any] = {}


class SyncJob(BaseModel):
    merchant_id: str
    reason: Reason = "schedule"


def _message(job: SyncJob, dedup: str) -> dict[str, Any]:
    return {
        "MessageBody": job.model_dump_json(),
        "MessageGroupId": job.merchant_id,
        "MessageDeduplicationId": dedup[:128],
    }


def enqueue(merchant_id: str, reason: Reason, dedup: str | None = None) -> None:
    """Queue a sync job; SQS throttled, failing or unreachable → ServiceBusy (a 503 on routes,
    a retried record in consumers)."""
    job = SyncJob(merchant_id=merchant_id, reason=reason)
    try:
        client("sqs").send_message(
            QueueUrl=config().sync_queue_url,
            **_message(job, dedup or f"{merchant_id}-{reason}-{uuid.uuid4().hex}"),
        )
    except (ClientError, BotoCoreError) as exc:
        code = (
            exc.response.get("Error", {}).get("Code", "")
            if isinstance(exc, ClientError)
            else type(exc).__name__
        )
        log.warning("sync job not enqueued: SQS unavailable", extra={"aws_error": code})
        raise ServiceBusy(
            "The sync could not be queued right now; please retry shortly.",
            headers={"Retry-After": "1"},
        ) from exc


def fan_out(merchant_ids: Iterable[str] | None = None) -> int:
    """One job per connected merchant for the current time slot; returns how many were sent."""
    slot = int(clock.now().timestamp()) // SLOT_SECONDS
    ids = list(connection.connected_merchants() if merchant_ids is None else merchant_ids)
    sqs = client("sqs")

    def send(start: int) -> None:
        entries = [
            {"Id": str(i), **_message(SyncJob(merchant_id=m), f"{m}-slot-{slot}")}
            for i, m in enumerate(ids[start : start + 10])
        ]
        response = sqs.send_message_batch(QueueUrl=config().sync_queue_url, Entries=entries)
        for failed in response.get("Failed", []):
            log.error("sync job not enqueued", extra={"code": failed.get("Code")})

    # One paginated Query, then batches of 10 sent by a few threads: 1 000 merchants are
    # 100 SendMessageBatch requests, ~13 round trips deep (bounded time at any count).
    with ThreadPoolExecutor(max_workers=FAN_OUT_THREADS) as pool:
        list(pool.map(send, range(0, len(ids), 10)))
    return len(ids)


def run_job(
    job: SyncJob,
    remaining_seconds: Callable[[], float],
    client_factory: Callable[..., SmileClient] = SmileClient,
) -> Outcome | Literal["skipped"]:
    """Run or resume the merchant's sync; re-enqueue it when time ran out before the end."""
    api_key = connection.api_key_for(job.merchant_id)
    if api_key is None or not connection.is_connected(job.merchant_id):
        stop_run(job.merchant_id)  # disconnected mid-run: the status must not stay "running"
        return "skipped"
    with client_factory(api_key, **client_options) as smile:
        smile.priority = "background"  # the shared Smile budget serves redemptions first
        options = {"remaining_seconds": remaining_seconds, **sync_options}
        sync = Sync(job.merchant_id, smile, **options)
        run, pages, customers = sync.state.run_id, sync.state.pages, sync.state.customers_synced
        outcome = sync.run()
        state = sync.state
    if state.run_id != run:  # a new run started: its figures are all this invocation's
        pages = customers = 0
    observability.count("SmileSyncPages", state.pages - pages)
    observability.count("SmileSyncCustomers", state.customers_synced - customers)
    observability.count("SmileSyncRuns", Outcome=outcome)
    log.info(
        "smile sync step",
        extra={
            "merchant_id": job.merchant_id,
            "outcome": outcome,
            "phase": state.phase,
            "customers_synced": state.customers_synced,
            "requests_made": state.requests_made,
        },
    )
    if outcome == "continue":
        enqueue(
            job.merchant_id, "continue", f"{job.merchant_id}-{state.run_id}-{state.invocations}"
        )
    return outcome


def parse_job(body: str) -> SyncJob:
    return SyncJob.model_validate(json.loads(body))
