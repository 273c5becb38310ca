"""Event sources of the local stack: DynamoDB streams and SQS queues delivered to functions.

Delivery follows Lambda's event source mappings: batches of up to BatchSize, partial batch
responses (`batchItemFailures`) retried from the first failed record, bisection on a function
error, a bounded number of retries, then the batch is parked on the OnFailure destination
(an SQS queue of the template) with a log line, as a DLQ would keep it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from hubdev import events
from hubdev.aws import Resources
from hubdev.iam import acting_as
from hubdev.lambdas import Runtime
from hubdev.template import QueueSource, StreamSource

log = logging.getLogger("hubdev.pumps")


def _failed_ids(response: Any) -> list[str] | None:
    """Item identifiers the function reported as failed; None when the response has none."""
    if isinstance(response, dict) and response.get("batchItemFailures"):
        return [str(f.get("itemIdentifier")) for f in response["batchItemFailures"]]
    return None


class StreamPump:
    """Reads one table's stream and delivers it to one function, in order."""

    def __init__(
        self, source: StreamSource, resources: Resources, runtime: Runtime, client: Any, sqs: Any
    ) -> None:
        self.source = source
        self.stream_arn = resources.stream_arns[source.table]
        self.resources = resources
        self.runtime = runtime
        self.client = client
        self.sqs = sqs
        self.positions: dict[str, str] = {}
        self.shard_of: dict[str, str] = {}  # sequence number -> shard (OnFailure records name it)
        self.parked = 0
        self.invocations = 0
        self.transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        # Tests set 2 to deliver every batch twice (at-least-once delivery made visible).
        self.deliveries_per_batch = 1

    def _shards(self) -> list[str]:
        description = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description["Shards"]]

    def _read(self) -> list[dict[str, Any]]:
        # A fresh iterator after the last sequence number read, every time: moto replaces a
        # table's stream shard object when a TransactWriteItems is cancelled (it restores a
        # deep copy of its tables), and an older iterator would never see new records.
        records: list[dict[str, Any]] = []
        for shard in self._shards():
            position = self.positions.get(shard)
            where: dict[str, str] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
                if position
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self.client.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard, **where
            )["ShardIterator"]
            response = self.client.get_records(ShardIterator=iterator, Limit=1000)
            found = response.get("Records", [])
            records.extend(found)
            for record in found:
                self.shard_of[record["dynamodb"]["SequenceNumber"]] = shard
            if found:
                self.positions[shard] = found[-1]["dynamodb"]["SequenceNumber"]
        return records

    def pump(self) -> int:
        """Deliver every record available now; returns how many were read."""
        with acting_as(self.source.function):  # Lambda polls with the function's role
            records = self._read()
        for start in range(0, len(records), self.source.batch_size):
            self._deliver(records[start : start + self.source.batch_size])
        return len(records)

    def replay(self, records: list[dict[str, Any]]) -> None:
        """Deliver records as GetRecords returned them, in batches (tests replay a capture)."""
        for start in range(0, len(records), self.source.batch_size):
            self._deliver(records[start : start + self.source.batch_size])

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[bool, list[str] | None]:
        event = events.stream_event(self.stream_arn, batch)
        if self.transform is not None:
            event = self.transform(event)
        self.invocations += 1
        try:
            for _ in range(self.deliveries_per_batch - 1):
                self.runtime.invoke(self.source.function, event)
            response = self.runtime.invoke(self.source.function, event)
        except Exception:
            log.exception("%s failed on a batch of %d records", self.source.function, len(batch))
            return False, None
        failed = _failed_ids(response) if self.source.report_item_failures else None
        return failed is None, failed

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        queue: list[tuple[list[dict[str, Any]], int]] = [(batch, 0)]
        while queue:
            current, retries = queue.pop(0)
            ok, failed = self._invoke(current)
            if ok:
                continue
            if failed:
                sequence = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(current)}
                first = min((sequence[f] for f in failed if f in sequence), default=0)
                current = current[first:]
            elif self.source.bisect and len(current) > 1:
                middle = len(current) // 2
                queue[:0] = [(current[:middle], retries + 1), (current[middle:], retries + 1)]
                continue
            if retries >= self.source.max_retries:
                self._park(current)
                continue
            queue.insert(0, (current, retries + 1))

    def _park(self, batch: list[dict[str, Any]]) -> None:
        self.parked += len(batch)
        first = batch[0]["dynamodb"]["SequenceNumber"]
        last = batch[-1]["dynamodb"]["SequenceNumber"]
        log.error(
            "stream batch parked after %d retries: %s records %s..%s of %s",
            self.source.max_retries,
            self.source.function,
            first,
            last,
            self.stream_arn,
        )
        if self.source.on_failure:
            with acting_as(self.source.function):  # the OnFailure destination: its role too
                self._send_on_failure(batch, first, last)

    def _send_on_failure(self, batch: list[dict[str, Any]], first: str, last: str) -> None:
        if self.source.on_failure:
            self.sqs.send_message(
                QueueUrl=self.resources.queue_urls[self.source.on_failure],
                MessageBody=json.dumps(
                    {
                        "requestContext": {"condition": "RetryAttemptsExhausted"},
                        "DDBStreamBatchInfo": {
                            "shardId": self.shard_of.get(first, ""),
                            "streamArn": self.stream_arn,
                            "startSequenceNumber": first,
                            "endSequenceNumber": last,
                            "batchSize": len(batch),
                        },
                        "function": self.source.function,
                    }
                ),
            )


class QueuePump:
    """Receives one SQS queue's messages and delivers them to one function."""

    MAX_RECEIVES = 5

    def __init__(self, source: QueueSource, resources: Resources, runtime: Runtime, sqs: Any):
        self.source = source
        self.url = resources.queue_urls[source.queue]
        self.arn = resources.queue_arns[source.queue]
        self.runtime = runtime
        self.sqs = sqs
        self.parked = 0

    def pump(self) -> int:
        with acting_as(self.source.function):  # Lambda polls with the function's role
            messages = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(10, self.source.batch_size),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
        if not messages:
            return 0
        failed: set[str]
        try:
            response = self.runtime.invoke(
                self.source.function, events.sqs_event(self.arn, messages)
            )
            reported = _failed_ids(response) if self.source.report_item_failures else None
            failed = set(reported or [])
        except Exception:
            log.exception("%s failed on %d messages", self.source.function, len(messages))
            failed = {m["MessageId"] for m in messages}
        for message in messages:
            receipt = message["ReceiptHandle"]
            if message["MessageId"] not in failed:
                with acting_as(self.source.function):  # Lambda deletes what succeeded
                    self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=receipt)
                continue
            receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            if receives >= self.MAX_RECEIVES:
                self.parked += 1
                log.error("message parked after %d receives: %s", receives, message["MessageId"])
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=receipt)
            else:
                self.sqs.change_message_visibility(
                    QueueUrl=self.url, ReceiptHandle=receipt, VisibilityTimeout=0
                )
        return len(messages)
