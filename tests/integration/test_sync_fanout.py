"""The 5-minute scheduler with many connected merchants (issue 18 item 4; 1 000 in
bench/bench_fanout.py)."""

from __future__ import annotations

import uuid

import pytest

from customer_hub.infra.aws import client
from customer_hub.infra.config import config
from customer_hub.infra.store import Table, serialize
from customer_hub.merchants.profiles import merchant_pk
from customer_hub.smile import jobs
from customer_hub.smile.connection import CONNECTIONS_PK
from hubdev.metering import metering
from hubdev.stack import LocalStack


def test_hundreds_of_merchants_fan_out_in_one_query_and_batches_of_10(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = client("sqs")
    queue = sqs.create_queue(
        QueueName=f"fanout-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    monkeypatch.setenv("SYNC_QUEUE_URL", queue)  # a queue no worker drains
    config.cache_clear()
    table = Table(config().data_table)
    ids = [f"m_fan{uuid.uuid4().hex[:13]}" for _ in range(300)]
    connections = [
        {"pk": CONNECTIONS_PK, "sk": merchant_pk(m), "merchant_id": m, "connected_at": "now"}
        for m in ids
    ]
    for start in range(0, len(connections), 25):
        table._client.batch_write_item(
            RequestItems={
                table.name: [
                    {"PutRequest": {"Item": serialize(c)}} for c in connections[start : start + 25]
                ]
            }
        )
    try:
        with metering() as dynamodb, metering("sqs") as queue_requests:
            sent = jobs.fan_out()
            jobs.fan_out()  # the same 5-minute slot: deduplicated
        assert sent >= 300
        assert dynamodb.calls["Query"] <= 4 and set(dynamodb.calls) == {"Query"}
        batches = -(-sent // 10)
        assert queue_requests.calls["SendMessageBatch"] == 2 * batches
        queued: set[str] = set()
        while True:
            got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                break
            queued |= {jobs.parse_job(m["Body"]).merchant_id for m in messages}
            sqs.delete_message_batch(
                QueueUrl=queue,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
        assert set(ids) <= queued, "one job per merchant, once"
    finally:
        for start in range(0, len(connections), 25):
            table._client.batch_write_item(
                RequestItems={
                    table.name: [
                        {"DeleteRequest": {"Key": {"pk": {"S": c["pk"]}, "sk": {"S": c["sk"]}}}}
                        for c in connections[start : start + 25]
                    ]
                }
            )
        config.cache_clear()
