"""Events-table stream records (Powertools parser models) → the changes the roll-ups apply."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from pydantic import ValidationError

from customer_hub.infra.store import plain

log = logging.getLogger(__name__)

HANDLED_KINDS = ("hub_event", "order", "account_created")


@dataclass(frozen=True)
class Change:
    """One new item of the events table that feeds the roll-ups."""

    sequence: str
    source_pk: str
    kind: str
    merchant_id: str
    item: dict[str, Any]


def new_image(record: DynamoDBStreamRecordModel) -> dict[str, Any]:
    """The record's new item as plain Python values ({} when it has none)."""
    image = record.dynamodb.NewImage
    return {k: plain(v) for k, v in image.items()} if isinstance(image, dict) else {}


def change_of(record: DynamoDBStreamRecordModel) -> Change | None:
    """The change a stream record carries, or None when it does not feed the roll-ups (not an
    insert, a TTL deletion, another kind of item)."""
    if record.eventName != "INSERT" or record.userIdentity is not None:
        return None
    image = new_image(record)
    if image.get("kind") not in HANDLED_KINDS:
        return None
    return Change(
        sequence=record.dynamodb.SequenceNumber,
        source_pk=str(image["pk"]),
        kind=str(image["kind"]),
        merchant_id=str(image["merchant_id"]),
        item=image,
    )


@dataclass(frozen=True)
class MerchantBatch:
    """One merchant's changes of a stream batch, in stream order, and its time zone."""

    merchant_id: str
    zone: ZoneInfo
    changes: list[Change]

    def of_kind(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def events(self) -> list[Change]:
        return self.of_kind("hub_event")

    @property
    def orders(self) -> list[Change]:
        return self.of_kind("order")

    @property
    def accounts(self) -> list[Change]:
        return self.of_kind("account_created")


@dataclass
class BatchOutcome:
    """Which records of a batch could not be read (reported as partial batch failures)."""

    unreadable: set[str] = field(default_factory=set)
    applied: int = 0

    def check(self, sequence: str) -> None:
        if sequence in self.unreadable:
            raise ValueError(f"stream record {sequence} is not a readable events-table item")


def read_changes(records: Iterable[dict[str, Any]], outcome: BatchOutcome) -> list[Change]:
    """The batch's changes in stream order; unreadable records are noted in `outcome`."""
    changes = []
    for record in records:
        sequence = str((record.get("dynamodb") or {}).get("SequenceNumber", ""))
        try:
            change = change_of(DynamoDBStreamRecordModel.model_validate(record))
        except (ValidationError, KeyError, TypeError, ValueError):
            log.exception("unreadable stream record %s", sequence)
            outcome.unreadable.add(sequence)
            continue
        if change is not None:
            changes.append(change)
    return changes
