"""The metrics store on DynamoDB (the metrics table): the port's writes become expressions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from customer_hub.infra.config import config
from customer_hub.infra.store import (
    Table,
    cancellation_reasons,
    failed_because,
    is_condition_failed,
    key,
    serialize,
    serialize_value,
)
from customer_hub.metrics.keys import IDLE_INDEX, customer_of_idle_sk
from customer_hub.metrics.store import (
    Add,
    Cancelled,
    Condition,
    ConditionFailed,
    Delete,
    Item,
    Key,
    Put,
    Update,
    Write,
)


class _Expression:
    """Attribute names and values of one request, numbered as they are added."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = serialize_value(value)
        return placeholder

    def condition(self, guard: Sequence[Condition]) -> str:
        parts = []
        for test in guard:
            name = self.name(test.attribute)
            if test.test == "absent":
                parts.append(f"attribute_not_exists({name})")
            elif test.test == "equals":
                parts.append(f"{name} = {self.value(test.value)}")
            else:
                value = self.value(test.value)
                parts.append(f"(attribute_not_exists({name}) OR {name} < {value})")
        return " AND ".join(parts)

    def request(self, guard: Sequence[Condition]) -> dict[str, Any]:
        """ConditionExpression and the names and values used so far."""
        condition = self.condition(guard)
        request: dict[str, Any] = {"ConditionExpression": condition} if condition else {}
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request


def _update_expression(write: Add | Update, expression: _Expression) -> str:
    if isinstance(write, Add):
        adds = [
            f"{expression.name(n)} {expression.value(write.counters[n])}"
            for n in sorted(write.counters)
        ]
        return "ADD " + ", ".join(adds)
    sets = [f"{expression.name(n)} = {expression.value(v)}" for n, v in write.values.items()]
    for attribute, default in write.defaults.items():
        name = expression.name(attribute)
        sets.append(f"{name} = if_not_exists({name}, {expression.value(default)})")
    return "SET " + ", ".join(sets)


def request_of(table_name: str, write: Write) -> tuple[str, dict[str, Any]]:
    """The write as (TransactWriteItems operation name, its parameters)."""
    expression = _Expression()
    if isinstance(write, Put):
        item = {"TableName": table_name, "Item": serialize(write.item)}
        return "Put", item | expression.request(write.guard)
    base = {"TableName": table_name, "Key": key(write.pk, write.sk)}
    if isinstance(write, Delete):
        return "Delete", base | expression.request(write.guard)
    update = _update_expression(write, expression)
    return "Update", base | {"UpdateExpression": update} | expression.request(write.guard)


class DynamoMetricsStore:
    """The metrics store over one DynamoDB table (the metrics table unless named)."""

    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table(config().metrics_table)

    def get(self, pk: str, sk: str, *, consistent: bool = False) -> Item | None:
        return self.table.get(pk, sk, consistent=consistent)

    def get_many(self, keys: Iterable[Key], *, consistent: bool = False) -> dict[Key, Item]:
        found = self.table.batch_get(keys, consistent=consistent)
        return {(str(item["pk"]), str(item["sk"])): item for item in found}

    def query(
        self, pk: str, between: tuple[str, str], *, consistent: bool = False
    ) -> Iterator[Item]:
        return self.table.query_all(pk, sk_between=between, consistent=consistent)

    def page(
        self,
        pk: str,
        between: tuple[str, str],
        *,
        limit: int,
        after: str | None,
        newest_first: bool,
    ) -> tuple[list[Item], str | None]:
        items, last = self.table.query(
            pk,
            sk_between=between,
            forward=not newest_first,
            limit=limit,
            start_key=key(pk, after) if after else None,
        )
        return items, str(last["sk"]["S"]) if last else None

    def idle_page(
        self, pk: str, between: tuple[str, str], *, limit: int, after: str | None
    ) -> tuple[list[Item], str | None]:
        start = None
        if after:
            start = {**key(pk, customer_of_idle_sk(after)), "idle_sk": {"S": after}}
        items, last = self.table.query(
            pk,
            sk_between=between,
            limit=limit,
            start_key=start,
            index=IDLE_INDEX,
            sk_name="idle_sk",
        )
        return items, str(last["idle_sk"]["S"]) if last else None

    def transact(self, writes: Sequence[Write]) -> None:
        operations = [dict([request_of(self.table.name, w)]) for w in writes]
        try:
            self.table.transact_write(operations)
        except ClientError as exc:
            if not failed_because(exc, "TransactionCanceledException"):
                raise
            raise Cancelled(cancellation_reasons(exc)) from exc

    def write(self, write: Write) -> Item:
        operation, request = request_of(self.table.name, write)
        if operation == "Update":
            request["ReturnValues"] = "ALL_NEW"
        try:
            return self.table.write(operation, request)
        except ClientError as exc:
            if not is_condition_failed(exc):
                raise
            raise ConditionFailed(str(exc)) from exc

    def put_all(self, items: Iterable[Mapping[str, Any]]) -> None:
        self.table.batch_put(items)
