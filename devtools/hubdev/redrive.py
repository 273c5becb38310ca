"""Redrive of DynamoDB-stream batches parked on an OnFailure queue.

When a stream batch exhausts its retries, Lambda (and the local pumps) send an OnFailure record
to the function's queue. It names a range — stream, shard, first and last sequence number — not
the records themselves: these are read again from the stream (DynamoDB keeps them 24 hours) and
handed to the function again, as one stream event. A message is deleted only when the function
took the whole range without an error or a reported item failure; otherwise it stays on the
queue for the next redrive.

Safe for the metric roll-ups, whose every effect is idempotent (see customer_hub.metrics.rollups): a
range that was partly applied before it was parked is applied exactly once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hubdev import events

log = logging.getLogger("hubdev.redrive")

Invoke = Callable[[dict[str, Any]], Any]


@dataclass
class RedriveResult:
    messages: int = 0
    records: int = 0
    redriven: int = 0  # messages whose range the function took; deleted from the queue
    failed: int = 0  # messages left on the queue


def read_range(streams: Any, info: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of one OnFailure `DDBStreamBatchInfo`, as GetRecords returns them."""
    first, last = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    found: list[dict[str, Any]] = []
    while iterator:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = response.get("Records", [])
        for record in records:
            number = int(record["dynamodb"]["SequenceNumber"])
            if number > last:
                return found
            if number >= first:
                found.append(record)
        if not records:
            return found
        iterator = response.get("NextShardIterator")
    return found


def _took_it(response: Any) -> bool:
    return not (isinstance(response, dict) and response.get("batchItemFailures"))


def redrive(sqs: Any, streams: Any, queue_url: str, invoke: Invoke) -> RedriveResult:
    """Redrive every message on the queue once; see the module docstring."""
    result = RedriveResult()
    kept: list[str] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            result.messages += 1
            info = json.loads(message["Body"])["DDBStreamBatchInfo"]
            records = read_range(streams, info)
            result.records += len(records)
            try:
                took = _took_it(invoke(events.stream_event(info["streamArn"], records)))
            except Exception:
                log.exception("redrive of %s failed", info.get("startSequenceNumber"))
                took = False
            if took:
                result.redriven += 1
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:
                result.failed += 1
                kept.append(message["ReceiptHandle"])
    for receipt in kept:  # visible again for the next redrive
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
        )
    return result


def lambda_invoker(lambda_client: Any, function_name: str) -> Invoke:
    """Invoke a deployed function synchronously; a function error raises."""

    def invoke(event: dict[str, Any]) -> Any:
        response = lambda_client.invoke(
            FunctionName=function_name,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"{function_name} failed: {payload}")
        return payload

    return invoke
