"""Benchmark of the Smile sync at operator scale (issue 18 item 4).

1. The 5-minute scheduler with 1 000 connected merchants: `jobs.fan_out` in process against moto
   (`mock_aws`: DynamoDB and an SQS FIFO queue): DynamoDB and SQS requests, messages enqueued,
   time; then a second fan-out in the same 5-minute slot (deduplicated: no new message).
   Same-run baseline: one GetItem per merchant (what a per-merchant check would add).
2. A resumable sync: a Smile stand-in account of `CUSTOMERS` customers synced by a worker whose
   invocations each have time for `PAGES_PER_INVOCATION` pages of 250 (the real worker stops 30 s
   before its timeout and enqueues a `continue` job); every invocation resumes from the saved
   cursor. Measured per page, then extrapolated to a 1 M-customer account.

Writes `bench/results/fanout.md`. Usage: `python -m bench.bench_fanout`.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

from bench.bench_rollups import RequestCounter, _environment
from bench.common import table, write_result

MERCHANTS = int(os.environ.get("BENCH_FANOUT_MERCHANTS", "1000"))
CUSTOMERS = int(os.environ.get("BENCH_FANOUT_CUSTOMERS", "2000"))
PAGES_PER_INVOCATION = 2
WORKER_TIMEOUT = 300  # template.yaml SmileSyncWorkerFunction Timeout
STOP_MARGIN = 30


def _tables() -> None:
    import boto3

    boto3.client("dynamodb").create_table(
        TableName="bench-data",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    url = boto3.client("sqs").create_queue(
        QueueName="bench-sync.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    os.environ["SYNC_QUEUE_URL"] = url


class SqsCounter:
    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("after-call.sqs", self._after)

    def _after(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1


def _fan_out() -> list[list[object]]:
    from customer_hub.infra.aws import client
    from customer_hub.infra.config import config
    from customer_hub.infra.store import Table
    from customer_hub.merchants.profiles import merchant_pk
    from customer_hub.smile import jobs
    from customer_hub.smile.connection import CONNECTIONS_PK

    data = Table(config().data_table)
    for n in range(MERCHANTS):
        merchant_id = f"m_{n:016x}"
        data.put(
            {
                "pk": CONNECTIONS_PK,
                "sk": merchant_pk(merchant_id),
                "merchant_id": merchant_id,
                "connected_at": "2026-11-23T10:00:00Z",
            }
        )
    dynamodb, sqs = RequestCounter(client("dynamodb")), SqsCounter(client("sqs"))
    rows: list[list[object]] = []
    for run in ("first fan-out of the slot", "second fan-out, same slot"):
        dynamodb.reset()
        sqs.calls.clear()
        started = time.perf_counter()
        sent = jobs.fan_out()
        elapsed = time.perf_counter() - started
        attributes = client("sqs").get_queue_attributes(
            QueueUrl=config().sync_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        rows.append(
            [
                run,
                sent,
                dynamodb.total,
                sum(sqs.calls.values()),
                attributes["ApproximateNumberOfMessages"],
                f"{elapsed:.2f}",
            ]
        )
    dynamodb.reset()
    started = time.perf_counter()
    for n in range(MERCHANTS):
        data.get(merchant_pk(f"m_{n:016x}"), "PROFILE")
    rows.append(
        [
            "baseline: + one GetItem per merchant",
            MERCHANTS,
            dynamodb.total + 1,
            "",
            "",
            f"{time.perf_counter() - started:.2f} (reads only)",
        ]
    )
    return rows


def _resumable_sync() -> tuple[list[list[object]], dict[str, float]]:
    from customer_hub.merchants.profiles import NewMerchant, create_merchant
    from customer_hub.smile.client import SmileClient
    from customer_hub.smile.sync import Sync, load_state
    from hubdev.smile_standin import SmileStandIn

    created = create_merchant(
        NewMerchant(
            name="Big Smile", shop_domain="bigsmile.myshopify.com", timezone="UTC", currency="USD"
        )
    )
    rows: list[list[object]] = []
    with SmileStandIn() as standin:
        api_key = "sk_bench_resumable"
        standin.add_account(api_key, customers=CUSTOMERS)
        started = time.perf_counter()
        invocations = 0
        outcome = "continue"
        while outcome == "continue":
            invocations += 1
            checks = iter(range(10_000))

            def budget(checks: Any = checks) -> float:
                # program + PAGES_PER_INVOCATION pages, then "30 s left": stop and checkpoint
                return 900.0 if next(checks) <= PAGES_PER_INVOCATION else 0.0

            with SmileClient(api_key, base_url=standin.url) as smile:
                outcome = Sync(
                    created.merchant_id, smile, page_size=250, remaining_seconds=budget
                ).run()
            state = load_state(created.merchant_id)
            rows.append([invocations, state.phase or "done", state.customers_synced, state.pages])
        elapsed = time.perf_counter() - started
        cursors = [r.query.get("cursor") for r in standin.requests(None, "/customers")]
        assert len(cursors) == len(set(cursors)), "no customer page fetched twice"
        final = load_state(created.merchant_id)
        assert final.status == "idle" and final.customers_synced == CUSTOMERS
        smile_requests = len(standin.requests(None))
    customer_pages = -(-CUSTOMERS // 250)
    facts = {
        "invocations": invocations,
        "seconds": elapsed,
        "smile_requests": smile_requests,
        "seconds_per_page": elapsed / final.pages,
        "customer_pages": customer_pages,
    }
    return rows, facts


def run() -> str:
    _environment()
    from moto import mock_aws

    with mock_aws():
        from customer_hub.infra.config import config

        config.cache_clear()
        _tables()
        config.cache_clear()
        fan_rows = _fan_out()
        sync_rows, facts = _resumable_sync()
    pages_1m = 1_000_000 // 250
    smile_floor = pages_1m / 9.09
    per_invocation = WORKER_TIMEOUT - STOP_MARGIN
    moto_total = pages_1m * facts["seconds_per_page"]
    return "\n".join(
        [
            f"Scheduler, {MERCHANTS:,} connected merchants (`jobs.fan_out`, moto in process):",
            "",
            table(
                [
                    "run",
                    "jobs",
                    "DynamoDB requests",
                    "SQS requests",
                    "messages queued",
                    "seconds",
                ],
                fan_rows,
            ),
            "",
            "One paginated Query of `SMILE_CONNECTIONS` (1 000 items of ~150 B: one page) and "
            "one SendMessageBatch per 10 merchants; the FIFO deduplication id names the merchant "
            "and the 5-minute slot, so a repeated fan-out queues nothing new. Requests grow "
            "with merchants ÷ 10 (SQS) and merchants ÷ ~6 000 (DynamoDB pages of 1 MB). The "
            "seconds are moto's: its FIFO queue checks each message against every earlier one "
            "(quadratic); when a fan-out takes it longer than SQS's 5-minute deduplication "
            "window, part of the second fan-out is queued again (real SQS answers a batch in "
            "tens of ms: 100 batches from 8 threads take about a second).",
            "",
            f"Resumable sync: {CUSTOMERS:,} Smile customers, pages of 250, each invocation with "
            f"time for {PAGES_PER_INVOCATION} pages (then it saves the cursor and the next "
            "invocation resumes):",
            "",
            table(["invocation", "phase after", "customers synced", "pages"], sync_rows),
            "",
            f"{facts['invocations']} invocations, {facts['smile_requests']} Smile requests, "
            f"{facts['seconds']:.0f} s in all, {facts['seconds_per_page']:.2f} s per page on "
            "moto; no page fetched twice, every customer stored.",
            "",
            f"Extrapolated to 1 000 000 customers: {pages_1m:,} customer pages; Smile's limit "
            f"alone needs {smile_floor:.0f} s (9.09 requests/s), moto's write speed measured "
            f"here {moto_total / 60:.0f} min. The worker stops {STOP_MARGIN} s before its "
            f"{WORKER_TIMEOUT} s timeout (well inside Lambda's 15-minute cap) and checkpoints "
            f"after every page, so the account syncs in about "
            f"{max(smile_floor, moto_total) / per_invocation:.0f} invocations at moto's speed "
            f"(at least {smile_floor / per_invocation:.0f} at Smile's limit), each resuming "
            "from the saved cursor.",
        ]
    )


def main() -> None:
    report = run()
    write_result("fanout", "Smile sync at operator scale (issue 18)", report)
    print(report)


if __name__ == "__main__":
    main()
