"""Events-table stream records as DynamoDB Streams delivers them to a function."""

from __future__ import annotations

from typing import Any

from customer_hub.infra.store import serialize

STREAM_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/customer-hub-events/stream/2026-01-01T00:00:00"
)


def stream_record(item: dict[str, Any], sequence: str, event: str = "INSERT") -> dict[str, Any]:
    """An INSERT (or `event`) record of the item, NEW_AND_OLD_IMAGES."""
    image = serialize(item)
    return {
        "eventID": f"event-{sequence}",
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": STREAM_ARN,
        "dynamodb": {
            "ApproximateCreationDateTime": 1767225600,
            "Keys": {"pk": image["pk"], "sk": image["sk"]},
            "NewImage": image,
            "SequenceNumber": sequence,
            "SizeBytes": 300,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
