"""Roll-ups: a stream batch of the events table applied to the metrics table, exactly once.

Stream delivery is at least once (retries after partial failures, bisection, redelivered
batches). Every effect below is therefore one of:

1. **idempotent by construction** — OR-ing ordinals into an active-account bitmap, raising an
   account's `last_opened_at` to a later value, `ordinal = if_not_exists(...)`, putting a
   timeline item under a key derived from the record;
2. **a counter guarded by the record's marker** — the coalesced `ADD`s of a chunk of records
   and one `APPLIED` marker per record (`attribute_not_exists`) go in one TransactWriteItems:
   either all of them land or none; a redelivered record finds its marker, is dropped from
   the chunk and the rest is committed again;
3. **state-based** — an order's attribution is recomputed from the stored order and
   touch-points, and the revenue item plus the day's `ADD revenue (new - old)` are written in
   one transaction conditioned on the stored signature, so recomputing twice changes nothing.

Metrics-table layout (all keys scoped to one merchant):
- `MERCHANT#m#DAY` / `YYYY-MM-DD` — day counters (`si_<type>`, `new_accounts`,
  `aov_orders`, `aov_revenue`, `revenue`);
- `MERCHANT#m#TOTALS` / `TOTALS` — `accounts` (since launch), `next_ordinal`;
- `MERCHANT#m#ACTIVE` / `L<level>#<first day ordinal>[#S<shard>]` — roaring bitmap of the
  active ordinals of one shard (`customer_hub.metrics.model.shard_of`; shard 0 has no suffix);
- `MERCHANT#m#ACCOUNT` / `<customer id>` — `ordinal`, `email`, `last_opened_at`, `created_at`,
  and `idle_sk` = `<last_opened_at>#<customer id>` (`-#<customer id>` before the first visit):
  the sort key of the sparse index `IDLE_INDEX`, so the accounts not seen since a cutoff are
  one Query range (`customer_hub.metrics.dashboard.inactive_accounts`);
- `MERCHANT#m#CUST#<customer id>` / `TP#<at>#<event id>`, `ORDER#<at>#<order id>` — timeline;
- `MERCHANT#m#REVENUE` / `<ordered at>#<order id>` — an order's attributed lines;
- `<source item pk>` / `APPLIED` — a record's marker (TTL).
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pyroaring import BitMap

from customer_hub.infra import clock
from customer_hub.infra.config import config
from customer_hub.infra.store import Table, deserialize, key, serialize, serialize_value
from customer_hub.merchants.profiles import Merchant, find_merchant, merchant_pk
from customer_hub.metrics.hub_events import TOUCHPOINTS
from customer_hub.metrics.model import (
    ATTRIBUTION_WINDOW,
    CounterDeltas,
    Order,
    Touchpoint,
    account_counters,
    attribute,
    attribution_signature,
    block_sk,
    blocks_of_day,
    event_counters,
    local_day,
    order_counters,
    shard_of,
)
from customer_hub.metrics.orders import order_from_item

log = logging.getLogger(__name__)

HANDLED_KINDS = ("hub_event", "order", "account_created")
TRANSACTION_LIMIT = 100
MARKER_DAYS = 30
ATTEMPTS = 8


# ------------------------------------------------------------------ keys
def day_pk(merchant_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#DAY"


def totals_pk(merchant_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#TOTALS"


def active_pk(merchant_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#ACTIVE"


def accounts_pk(merchant_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#ACCOUNT"


def customer_pk(merchant_id: str, customer_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#CUST#{customer_id}"


def revenue_pk(merchant_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#REVENUE"


TOTALS_SK = "TOTALS"
IDLE_INDEX = "idle"  # metrics table GSI: pk (the accounts partition) / idle_sk
NEVER_OPENED = "-"  # sorts before any timestamp


def idle_sk(customer_id: str, last_opened_at: str | None) -> str:
    return f"{last_opened_at or NEVER_OPENED}#{customer_id}"


MARKER_SK = "APPLIED"


# ------------------------------------------------------------------ stream records
@dataclass(frozen=True)
class Change:
    """One new item of the events table that feeds the roll-ups."""

    sequence: str
    source_pk: str
    kind: str
    merchant_id: str
    item: dict[str, Any]


def is_ttl_deletion(record: dict[str, Any]) -> bool:
    identity = record.get("userIdentity") or {}
    return bool(identity.get("principalId") == "dynamodb.amazonaws.com")


def parse_record(record: dict[str, Any]) -> Change | None:
    """The change a stream record carries, or None when it does not feed the roll-ups."""
    if record.get("eventName") != "INSERT" or is_ttl_deletion(record):
        return None
    stream = record["dynamodb"]
    image = deserialize(stream.get("NewImage") or {})
    if image.get("kind") not in HANDLED_KINDS:
        return None
    return Change(
        sequence=str(stream["SequenceNumber"]),
        source_pk=str(image["pk"]),
        kind=str(image["kind"]),
        merchant_id=str(image["merchant_id"]),
        item=image,
    )


@dataclass
class BatchOutcome:
    """Which records of a batch could not be read (reported as partial batch failures)."""

    unreadable: set[str] = field(default_factory=set)
    applied: int = 0

    def check(self, sequence: str) -> None:
        if sequence in self.unreadable:
            raise ValueError(f"stream record {sequence} is not a readable events-table item")


class WriteStats:
    """DynamoDB requests made by the roll-ups (the benchmark reads it)."""

    reads = 0
    writes = 0


def apply_stream_batch(records: list[dict[str, Any]]) -> BatchOutcome:
    """Apply a batch; raises when a write fails (the event source retries or bisects)."""
    outcome = BatchOutcome()
    by_merchant: dict[str, list[Change]] = defaultdict(list)
    for record in records:
        sequence = str((record.get("dynamodb") or {}).get("SequenceNumber", ""))
        try:
            change = parse_record(record)
        except (KeyError, TypeError, ValueError):
            log.exception("unreadable stream record %s", sequence)
            outcome.unreadable.add(sequence)
            continue
        if change is not None:
            by_merchant[change.merchant_id].append(change)
    table = Table(config().metrics_table)
    for merchant_id, changes in by_merchant.items():
        merchant = find_merchant(merchant_id)
        if merchant is None:
            log.warning("records of an unknown merchant skipped: %d", len(changes))
            continue
        MerchantRollup(table, merchant, changes).apply()
        outcome.applied += len(changes)
    return outcome


# ------------------------------------------------------------------ one merchant's batch
def _touchpoint(item: dict[str, Any]) -> Touchpoint:
    return Touchpoint(
        event_id=str(item["event_id"]),
        type=str(item["type"]),
        occurred_at=str(item["occurred_at"]),
        product_id=item.get("product_id"),
        coupon_code=item.get("coupon_code"),
    )


def _feeds_attribution(item: dict[str, Any]) -> bool:
    return bool(
        item.get("customer_id")
        and (
            (item["type"] in TOUCHPOINTS and item.get("product_id"))
            or (item["type"] == "coupon_applied" and item.get("coupon_code"))
        )
    )


def _revenue_sk(order: Order) -> str:
    return f"{order.created_at}#{order.order_id}"


def _canceled_codes(exc: Exception) -> list[str]:
    reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
    return [str(reason.get("Code") or "None") for reason in reasons]


TRANSACTION_BYTES = 3_500_000  # TransactWriteItems carries at most 4 MB


def _size_chunks(writes: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    """Bitmap puts in transactions of at most 100 items and ~3.5 MB."""
    chunk: list[dict[str, Any]] = []
    size = 0
    for write in writes:
        item_size = len(write["Put"]["Item"]["bitmap"]["B"]) + 200
        if chunk and (len(chunk) == TRANSACTION_LIMIT or size + item_size > TRANSACTION_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(write)
        size += item_size
    if chunk:
        yield chunk


def _backoff(attempt: int) -> None:
    time.sleep(min(0.5, 0.01 * (2**attempt)) * random.random())


class MerchantRollup:
    def __init__(self, table: Table, merchant: Merchant, changes: list[Change]) -> None:
        self.table = table
        self.merchant = merchant
        self.mid = merchant.merchant_id
        self.zone = merchant.zone
        self.changes = changes
        self.events = [c for c in changes if c.kind == "hub_event"]
        self.orders = [c for c in changes if c.kind == "order"]
        self.accounts = [c for c in changes if c.kind == "account_created"]

    @property
    def client(self) -> Any:
        return self.table._client

    def apply(self) -> None:
        self._created_accounts()
        ordinals = self._opened_accounts()
        self._bitmaps(ordinals)
        self._timeline()
        self._attribution()
        self._counters()

    # -------------------------------------------------------------- accounts
    def _created_accounts(self) -> None:
        """Create-or-keep each new account: one transaction per 100 accounts (idempotent
        updates, so a redelivery changes nothing); a cancelled one is redone item by item."""
        first: dict[str, dict[str, Any]] = {}
        for change in self.accounts:
            item = change.item
            customer = str(item["customer_id"])
            merged = first.setdefault(customer, {"created_at": item["created_at"]})
            # One update per record in order: the first created_at and first email win.
            if item.get("email") and "email" not in merged:
                merged["email"] = item["email"]
        updates = [(customer, self._account_update(customer, m)) for customer, m in first.items()]
        for start in range(0, len(updates), TRANSACTION_LIMIT):
            chunk = updates[start : start + TRANSACTION_LIMIT]
            try:
                self._transact([{"Update": update} for _customer, update in chunk])
            except self.client.exceptions.TransactionCanceledException:
                for _customer, update in chunk:
                    self.client.update_item(**update)
                    WriteStats.writes += 1

    def _account_update(self, customer: str, account: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {
            ":c": customer,
            ":t": account["created_at"],
            ":idle": idle_sk(customer, None),
        }
        expression = (
            "SET customer_id = :c, created_at = if_not_exists(created_at, :t),"
            " idle_sk = if_not_exists(idle_sk, :idle)"
        )
        if account.get("email"):
            expression += ", email = if_not_exists(email, :e)"
            values[":e"] = account["email"]
        return {
            "TableName": self.table.name,
            "Key": key(accounts_pk(self.mid), customer),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": {k: serialize_value(v) for k, v in values.items()},
        }

    def _opened_accounts(self) -> dict[date, set[int]]:
        """Each opener's ordinal and latest visit; → ordinals active per local day."""
        latest: dict[str, tuple[str, str | None]] = {}
        days: dict[str, set[date]] = defaultdict(set)
        for change in self.events:
            item = change.item
            if item["type"] != "hub_opened" or not item.get("customer_id"):
                continue
            customer, at = str(item["customer_id"]), str(item["occurred_at"])
            days[customer].add(local_day(at, self.zone))
            if customer not in latest or latest[customer][0] < at:
                latest[customer] = (at, item.get("email"))
        if not latest:
            return {}
        stored = {
            str(i["sk"]): i
            for i in self._batch_get([(accounts_pk(self.mid), c) for c in latest], consistent=True)
        }
        missing = [c for c in latest if "ordinal" not in stored.get(c, {})]
        next_free = self._reserve_ordinals(len(missing))
        spare = dict(zip(missing, range(next_free, next_free + len(missing)), strict=True))
        ordinals: dict[str, int] = {}
        visits: list[tuple[str, int, dict[str, Any]]] = []
        for customer, (at, email) in latest.items():
            current = stored.get(customer, {})
            known = "ordinal" in current
            later = str(current.get("last_opened_at", "")) < at
            if known and not later:
                ordinals[customer] = int(current["ordinal"])
                continue
            ordinal = int(current["ordinal"]) if known else spare[customer]
            visits.append(
                (
                    customer,
                    ordinal,
                    self._visit_update(customer, at, email, ordinal, known=known, later=later),
                )
            )
        # One transaction per 100 visits, each guarded by the state read above; when anything
        # moved in between (a concurrent batch), the chunk is redone visit by visit.
        for start in range(0, len(visits), TRANSACTION_LIMIT):
            chunk = visits[start : start + TRANSACTION_LIMIT]
            try:
                self._transact([{"Update": update} for _c, _o, update in chunk])
            except self.client.exceptions.TransactionCanceledException:
                for customer, _ordinal, _update in chunk:
                    at, email = latest[customer]
                    ordinals[customer] = self._visit(customer, at, email, spare.get(customer, -1))
            else:
                ordinals.update({customer: ordinal for customer, ordinal, _u in chunk})
        active: dict[date, set[int]] = defaultdict(set)
        for customer, visited in days.items():
            for day in visited:
                active[day].add(ordinals[customer])
        return active

    def _reserve_ordinals(self, count: int) -> int:
        if not count:
            return 0
        attributes = self.table.update(
            totals_pk(self.mid),
            TOTALS_SK,
            "ADD next_ordinal :n",
            values={":n": count},
            return_values="UPDATED_NEW",
        )
        WriteStats.writes += 1
        return int(attributes["next_ordinal"]) - count

    def _visit_update(
        self, customer: str, at: str, email: str | None, ordinal: int, *, known: bool, later: bool
    ) -> dict[str, Any]:
        """The visit as one guarded update: it applies only if the account still has the
        ordinal read (or still none) and, when the visit is later, still an earlier visit."""
        values: dict[str, Any] = {":c": customer, ":o": ordinal}
        expression = "SET customer_id = :c, ordinal = :o"
        condition = "ordinal = :o" if known else "attribute_not_exists(ordinal)"
        if later:
            expression += ", last_opened_at = :t, idle_sk = :idle"
            condition += " AND (attribute_not_exists(last_opened_at) OR last_opened_at < :t)"
            values[":t"] = at
            values[":idle"] = idle_sk(customer, at)
        if email:
            expression += ", email = :e"
            values[":e"] = email
        return {
            "TableName": self.table.name,
            "Key": key(accounts_pk(self.mid), customer),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {k: serialize_value(v) for k, v in values.items()},
        }

    def _visit(self, customer: str, at: str, email: str | None, spare: int) -> int:
        """Record a visit (never moving last_opened_at back) and return the account's ordinal."""
        values: dict[str, Any] = {":c": customer, ":t": at, ":o": spare}
        expression = "SET customer_id = :c, ordinal = if_not_exists(ordinal, :o)"
        if email:
            expression += ", email = :e"
            values[":e"] = email
        try:
            attributes = self.table.update(
                accounts_pk(self.mid),
                customer,
                expression + ", last_opened_at = :t, idle_sk = :idle",
                values={**values, ":idle": idle_sk(customer, at)},
                condition="attribute_not_exists(last_opened_at) OR last_opened_at < :t",
                return_values="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            # A later visit is already stored; only make sure the account has its ordinal.
            values.pop(":t")
            attributes = self.table.update(
                accounts_pk(self.mid), customer, expression, values, return_values="ALL_NEW"
            )
            WriteStats.writes += 1
        WriteStats.writes += 1
        ordinal = int(attributes["ordinal"])
        if ordinal < 0:
            raise RuntimeError(f"account {customer} has no ordinal")
        return ordinal

    # -------------------------------------------------------------- active bitmaps
    def _bitmaps(self, active: dict[date, set[int]]) -> None:
        """OR the batch's ordinals into every block shard of their days: one read per 100
        shards and one transaction per 100 shards (or per ~3.5 MB of bitmaps: the 4 MB
        transaction limit), each shard guarded by its version (optimistic lock)."""
        additions: dict[str, BitMap] = defaultdict(BitMap)
        for day, ordinals in active.items():
            by_shard: dict[int, list[int]] = defaultdict(list)
            for ordinal in ordinals:
                by_shard[shard_of(ordinal)].append(ordinal)
            for block in blocks_of_day(day):
                for shard, members in by_shard.items():
                    additions[block_sk(block, shard)] |= BitMap(members)
        pending = sorted(additions)
        pk = active_pk(self.mid)
        for attempt in range(ATTEMPTS):
            if not pending:
                return
            stored = {
                str(i["sk"]): i
                for i in self._batch_get([(pk, sk) for sk in pending], consistent=True)
            }
            writes = []
            for sk in pending:
                current = stored.get(sk)
                bitmap = BitMap.deserialize(current["bitmap"]) if current else BitMap()
                if additions[sk] - bitmap:  # a redelivery finds every bit already set
                    writes.append(self._bitmap_put(pk, sk, bitmap | additions[sk], current))
            conflicted = False
            for chunk in _size_chunks(writes):
                try:
                    self._transact(chunk)
                except self.client.exceptions.TransactionCanceledException:
                    conflicted = True
            if not conflicted:
                return
            _backoff(attempt)  # another writer moved a block: re-read the blocks and OR again
        raise RuntimeError("active-account bitmaps kept changing under us")

    def _bitmap_put(
        self, pk: str, sk: str, bitmap: BitMap, current: dict[str, Any] | None
    ) -> dict[str, Any]:
        version = int(current["version"]) if current else 0
        item = {
            "pk": pk,
            "sk": sk,
            "bitmap": bitmap.serialize(),
            "count": len(bitmap),
            "version": version + 1,
        }
        guard: dict[str, Any] = (
            {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": serialize_value(version)},
            }
            if current
            else {"ConditionExpression": "attribute_not_exists(pk)"}
        )
        return {"Put": {"TableName": self.table.name, "Item": serialize(item), **guard}}

    # -------------------------------------------------------------- timeline and attribution
    def _timeline(self) -> None:
        puts = []
        for change in self.events:
            item = change.item
            if not _feeds_attribution(item):
                continue
            puts.append(
                {
                    "pk": customer_pk(self.mid, str(item["customer_id"])),
                    "sk": f"TP#{item['occurred_at']}#{item['event_id']}",
                    "event_id": item["event_id"],
                    "type": item["type"],
                    "occurred_at": item["occurred_at"],
                    "product_id": item.get("product_id"),
                    "coupon_code": item.get("coupon_code"),
                }
            )
        self._batch_put(puts)
        for change in self.orders:
            item = change.item
            if not item.get("customer_id"):
                continue
            entry = {
                **{k: v for k, v in item.items() if k not in ("pk", "sk", "kind")},
                "pk": customer_pk(self.mid, str(item["customer_id"])),
                "sk": f"ORDER#{item['created_at']}#{item['order_id']}",
            }
            WriteStats.writes += 1
            # Stored by an earlier delivery when the condition fails: an order never changes.
            with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
                self.table.put(entry, ConditionExpression="attribute_not_exists(pk)")

    def _attribution(self) -> None:
        """Recompute every order this batch can change: its new orders, and the orders of
        touched customers placed within 24 hours after one of the new touch-points."""
        orders: dict[tuple[str, str], Order] = {}
        for change in self.orders:
            order = order_from_item(change.item)
            if order.customer_id:
                orders[(order.customer_id, order.order_id)] = order
        spans: dict[str, tuple[str, str]] = {}
        for change in self.events:
            item = change.item
            if not _feeds_attribution(item):
                continue
            customer, at = str(item["customer_id"]), str(item["occurred_at"])
            low, high = spans.get(customer, (at, at))
            spans[customer] = (min(low, at), max(high, at))
        for customer, (low, high) in spans.items():
            until = clock.iso(clock.parse_iso(high) + ATTRIBUTION_WINDOW)
            for item in self._query(
                customer_pk(self.mid, customer), (f"ORDER#{low}", f"ORDER#{until}~")
            ):
                order = order_from_item(item)
                orders.setdefault((customer, order.order_id), order)
        if not orders:
            return
        stored = {
            str(i["sk"]): i
            for i in self._batch_get(
                [(revenue_pk(self.mid), _revenue_sk(o)) for o in orders.values()], consistent=True
            )
        }
        # Usually one transaction for the whole batch; any cancellation (a concurrent writer)
        # falls back to order-by-order recomputation from freshly read state.
        operations: list[dict[str, Any]] = []
        deltas = CounterDeltas()
        for order in orders.values():
            moved = self._attribution_ops(
                order, self._touchpoints_before(order), stored.get(_revenue_sk(order))
            )
            if moved:
                operations.extend(moved[0])
                deltas.merge(moved[1])
        if not operations:
            return
        if len(operations) + deltas.item_count <= TRANSACTION_LIMIT:
            try:
                self._transact(operations + self._counter_updates(deltas))
                return
            except self.client.exceptions.TransactionCanceledException:
                log.info("batched attribution cancelled; recomputing order by order")
        for order in orders.values():
            current = self.table.get(revenue_pk(self.mid), _revenue_sk(order), consistent=True)
            WriteStats.reads += 1
            self._reattribute(order, current)

    def _touchpoints_before(self, order: Order) -> list[Touchpoint]:
        assert order.customer_id
        since = clock.iso(clock.parse_iso(order.created_at) - ATTRIBUTION_WINDOW)
        return [
            _touchpoint(i)
            for i in self._query(
                customer_pk(self.mid, order.customer_id),
                (f"TP#{since}", f"TP#{order.created_at}"),
            )
        ]

    def _reattribute(self, order: Order, current: dict[str, Any] | None) -> None:
        sk = _revenue_sk(order)
        for attempt in range(ATTEMPTS):
            moved = self._attribution_ops(order, self._touchpoints_before(order), current)
            if moved is None:
                return
            operations, deltas = moved
            try:
                self._transact(operations + self._counter_updates(deltas))
                return
            except self.client.exceptions.TransactionCanceledException:
                pass
            _backoff(attempt)
            current = self.table.get(revenue_pk(self.mid), sk, consistent=True)
            WriteStats.reads += 1
        raise RuntimeError(f"attribution of order {order.order_id} kept changing under us")

    def _attribution_ops(
        self, order: Order, touchpoints: list[Touchpoint], current: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], CounterDeltas] | None:
        """The writes that move the stored attribution to the recomputed one (None: same),
        guarded by the stored signature so that a concurrent or repeated change cancels."""
        lines = attribute(order, touchpoints)
        sk = _revenue_sk(order)
        signature = attribution_signature(lines) if lines else None
        old_signature = current.get("signature") if current else None
        if signature == old_signature:
            return None
        total = sum(line.amount for line in lines)
        delta = total - (int(current["total"]) if current else 0)
        day = local_day(order.created_at, self.zone)
        guard: dict[str, Any] = (
            {
                "ConditionExpression": "signature = :old",
                "ExpressionAttributeValues": {":old": serialize_value(old_signature)},
            }
            if current
            else {"ConditionExpression": "attribute_not_exists(pk)"}
        )
        operations: list[dict[str, Any]] = []
        if lines:
            item = {
                "pk": revenue_pk(self.mid),
                "sk": sk,
                "order_id": order.order_id,
                "order_name": order.name,
                "customer_id": order.customer_id,
                "ordered_at": order.created_at,
                "day": day.isoformat(),
                "total": total,
                "signature": signature,
                "lines": [
                    {
                        "product_id": line.product_id,
                        "product_title": line.product_title,
                        "quantity": line.quantity,
                        "amount": line.amount,
                        "touchpoint": line.touchpoint,
                        "touchpoint_at": line.touchpoint_at,
                        "line_index": line.line_index,
                    }
                    for line in lines
                ],
            }
            operations.append(
                {"Put": {"TableName": self.table.name, "Item": serialize(item), **guard}}
            )
        else:
            operations.append(
                {
                    "Delete": {
                        "TableName": self.table.name,
                        "Key": key(revenue_pk(self.mid), sk),
                        **guard,
                    }
                }
            )
        deltas = CounterDeltas()
        if delta:
            deltas.add_day(day, "revenue", delta)
        return operations, deltas

    # -------------------------------------------------------------- counters with markers
    def _deltas(self, change: Change) -> CounterDeltas:
        item = change.item
        if change.kind == "hub_event":
            return event_counters(str(item["type"]), str(item["occurred_at"]), self.zone)
        if change.kind == "order":
            return order_counters(order_from_item(item), self.zone)
        return account_counters(str(item["created_at"]), self.zone)

    def _counters(self) -> None:
        chunk: list[tuple[Change, CounterDeltas]] = []
        coalesced = CounterDeltas()
        for change in self.changes:
            deltas = self._deltas(change)
            if not deltas.days and not deltas.totals:
                continue
            trial = CounterDeltas()
            trial.merge(coalesced)
            trial.merge(deltas)
            if chunk and len(chunk) + 1 + trial.item_count > TRANSACTION_LIMIT:
                self._commit(chunk)
                chunk, trial = [], CounterDeltas()
                trial.merge(deltas)
            chunk.append((change, deltas))
            coalesced = trial
        if chunk:
            self._commit(chunk)

    def _commit(self, chunk: list[tuple[Change, CounterDeltas]]) -> None:
        """Markers and the chunk's coalesced counter additions, all or nothing."""
        expires = int((clock.now() + timedelta(days=MARKER_DAYS)).timestamp())
        for attempt in range(ATTEMPTS):
            if not chunk:
                return
            coalesced = CounterDeltas()
            for _change, deltas in chunk:
                coalesced.merge(deltas)
            markers = [
                {
                    "Put": {
                        "TableName": self.table.name,
                        "Item": serialize(
                            {"pk": change.source_pk, "sk": MARKER_SK, "expires_at": expires}
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for change, _deltas in chunk
            ]
            try:
                self._transact(markers + self._counter_updates(coalesced))
                return
            except self.client.exceptions.TransactionCanceledException as exc:
                codes = _canceled_codes(exc)
                applied = {
                    chunk[i][0].source_pk
                    for i, code in enumerate(codes[: len(chunk)])
                    if code == "ConditionalCheckFailed"
                }
                if not applied and not codes:
                    applied = self._applied_markers([c.source_pk for c, _d in chunk])
                if applied:
                    chunk = [(c, d) for c, d in chunk if c.source_pk not in applied]
                    continue
                _backoff(attempt)
        raise RuntimeError("roll-up counters could not be committed")

    def _applied_markers(self, source_pks: list[str]) -> set[str]:
        found = self._batch_get([(pk, MARKER_SK) for pk in source_pks], consistent=True)
        return {str(item["pk"]) for item in found}

    def _counter_updates(self, deltas: CounterDeltas) -> list[dict[str, Any]]:
        updates = [
            self._add(day_pk(self.mid), day.isoformat(), counters)
            for day, counters in sorted(deltas.days.items())
        ]
        if deltas.totals:
            updates.append(self._add(totals_pk(self.mid), TOTALS_SK, deltas.totals))
        return updates

    def _add(self, pk: str, sk: str, counters: dict[str, int]) -> dict[str, Any]:
        names = {f"#f{i}": name for i, name in enumerate(sorted(counters))}
        values = {
            f":v{i}": serialize_value(counters[name]) for i, name in enumerate(sorted(counters))
        }
        expression = "ADD " + ", ".join(f"#f{i} :v{i}" for i in range(len(names)))
        return {
            "Update": {
                "TableName": self.table.name,
                "Key": key(pk, sk),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    # -------------------------------------------------------------- requests
    def _transact(self, operations: list[dict[str, Any]]) -> None:
        WriteStats.writes += 1
        self.table.transact_write(operations)

    def _query(self, pk: str, between: tuple[str, str]) -> Iterable[dict[str, Any]]:
        start: dict[str, Any] | None = None
        while True:
            WriteStats.reads += 1
            items, start = self.table.query(
                pk, sk_between=between, consistent=True, start_key=start
            )
            yield from items
            if not start:
                return

    def _batch_get(self, keys: list[tuple[str, str]], *, consistent: bool) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        wanted = [key(pk, sk) for pk, sk in dict.fromkeys(keys)]
        for start in range(0, len(wanted), 100):
            request: dict[str, Any] = {
                self.table.name: {"Keys": wanted[start : start + 100], "ConsistentRead": consistent}
            }
            while request:
                WriteStats.reads += 1
                response = self.client.batch_get_item(RequestItems=request)
                found.extend(deserialize(i) for i in response["Responses"].get(self.table.name, []))
                request = response.get("UnprocessedKeys") or {}
        return found

    def _batch_put(self, items: list[dict[str, Any]]) -> None:
        unique = {(i["pk"], i["sk"]): i for i in items}
        entries = [{"PutRequest": {"Item": serialize(i)}} for i in unique.values()]
        for start in range(0, len(entries), 25):
            request: dict[str, Any] = {self.table.name: entries[start : start + 25]}
            while request:
                WriteStats.writes += 1
                response = self.client.batch_write_item(RequestItems=request)
                request = response.get("UnprocessedItems") or {}
