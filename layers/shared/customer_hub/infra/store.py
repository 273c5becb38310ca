"""DynamoDB access: a small typed wrapper over the low-level client.

Every table has a string partition key `pk` and sort key `sk`. Items are plain dicts of
Python values; numbers come back as int when integral (money is always integer minor units).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from customer_hub.infra.aws import client
from customer_hub.infra.retries import backoff as backoff
from customer_hub.infra.retries import (
    cancellation_reasons as cancellation_reasons,
)
from customer_hub.infra.retries import failed_because as failed_because
from customer_hub.infra.retries import is_condition_failed as is_condition_failed
from customer_hub.infra.retries import transact, until_processed
from customer_hub.infra.retries import unless_condition_failed as unless_condition_failed

BATCH_GET_KEYS = 100
BATCH_WRITE_ITEMS = 25

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def plain(value: Any) -> Any:
    """A deserialized DynamoDB value as plain Python: integral numbers as int, binary as bytes."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return bytes(value.value)  # type: ignore[attr-defined]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, set):
        return {plain(v) for v in value}
    return value


def _dynamo_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dynamo_value(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_dynamo_value(v)) for k, v in item.items() if v is not None}


def serialize_value(value: Any) -> dict[str, Any]:
    return dict(_serializer.serialize(_dynamo_value(value)))


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: plain(_deserializer.deserialize(v)) for k, v in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def set_fields(fields: Mapping[str, Any]) -> tuple[list[str], dict[str, Any], dict[str, str]]:
    """`#f0 = :f0`, ... for the fields of an UpdateItem's SET (names and values by position)."""
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":f{i}": value for i, value in enumerate(fields.values())}
    return [f"#f{i} = :f{i}" for i in range(len(fields))], values, names


def _succeeded(write: Callable[[], object], code: str = "ConditionalCheckFailedException") -> bool:
    """Make the write; False when DynamoDB refused it for its condition (`code`)."""
    try:
        write()
    except ClientError as exc:
        if failed_because(exc, code):
            return False
        raise
    return True


def _expression(
    condition: str, values: Mapping[str, Any] | None, names: Mapping[str, str] | None
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"ConditionExpression": condition}
    if values:
        kwargs["ExpressionAttributeValues"] = {k: serialize_value(v) for k, v in values.items()}
    if names:
        kwargs["ExpressionAttributeNames"] = dict(names)
    return kwargs


class Table:
    """One DynamoDB table. Counts the requests it makes (benchmarks and cost tests read it)."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def _client(self) -> Any:
        return client("dynamodb")

    def get(self, pk: str, sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self.name, Key=key(pk, sk), ConsistentRead=consistent
        )
        item = response.get("Item")
        return deserialize(item) if item else None

    def put(self, item: Mapping[str, Any], **kwargs: Any) -> None:
        self._client.put_item(TableName=self.name, Item=serialize(item), **kwargs)

    def delete(self, pk: str, sk: str, **kwargs: Any) -> None:
        self._client.delete_item(TableName=self.name, Key=key(pk, sk), **kwargs)

    def put_if(
        self,
        item: Mapping[str, Any],
        condition: str,
        *,
        values: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> bool:
        """A conditional PutItem; False when the condition failed."""
        return _succeeded(lambda: self.put(item, **_expression(condition, values, names)))

    def delete_if(
        self,
        pk: str,
        sk: str,
        condition: str,
        *,
        values: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> bool:
        """A conditional DeleteItem; False when the condition failed."""
        return _succeeded(lambda: self.delete(pk, sk, **_expression(condition, values, names)))

    def update_if(
        self,
        pk: str,
        sk: str,
        expression: str,
        condition: str,
        *,
        values: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> bool:
        """A conditional UpdateItem; False when the condition failed."""
        return _succeeded(
            lambda: self.update(pk, sk, expression, values=values, names=names, condition=condition)
        )

    def update(
        self,
        pk: str,
        sk: str,
        expression: str,
        values: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
        condition: str | None = None,
        return_values: str = "NONE",
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": key(pk, sk),
            "UpdateExpression": expression,
            "ReturnValues": return_values,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = {k: serialize_value(v) for k, v in values.items()}
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        if condition:
            kwargs["ConditionExpression"] = condition
        response = self._client.update_item(**kwargs)
        return deserialize(response.get("Attributes", {}))

    def query(
        self,
        pk: str,
        *,
        sk_between: tuple[str, str] | None = None,
        sk_prefix: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        start_key: dict[str, Any] | None = None,
        consistent: bool = False,
        index: str | None = None,
        pk_name: str = "pk",
        sk_name: str = "sk",
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One Query request: the items of one page and the key to continue from."""
        condition = f"{pk_name} = :pk"
        values: dict[str, Any] = {":pk": {"S": pk}}
        if sk_between:
            condition += f" AND {sk_name} BETWEEN :lo AND :hi"
            values[":lo"], values[":hi"] = {"S": sk_between[0]}, {"S": sk_between[1]}
        elif sk_prefix:
            condition += f" AND begins_with({sk_name}, :prefix)"
            values[":prefix"] = {"S": sk_prefix}
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": forward,
        }
        if index:
            kwargs["IndexName"] = index
        else:
            kwargs["ConsistentRead"] = consistent
        if limit:
            kwargs["Limit"] = limit
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        response = self._client.query(**kwargs)
        items = [deserialize(i) for i in response.get("Items", [])]
        return items, response.get("LastEvaluatedKey")

    def query_all(self, pk: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        start: dict[str, Any] | None = None
        while True:
            items, start = self.query(pk, start_key=start, **kwargs)
            yield from items
            if not start:
                return

    def batch_get(
        self, keys: Iterable[tuple[str, str]], *, consistent: bool = False
    ) -> list[dict[str, Any]]:
        """BatchGetItem, 100 keys a request, unprocessed keys sent again after a backoff."""
        wanted = [key(pk, sk) for pk, sk in dict.fromkeys(keys)]
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), BATCH_GET_KEYS):
            chunk = wanted[start : start + BATCH_GET_KEYS]
            request = {self.name: {"Keys": chunk, "ConsistentRead": consistent}}

            def send(pending: dict[str, Any]) -> dict[str, Any]:
                response = self._client.batch_get_item(RequestItems=pending)
                found.extend(deserialize(i) for i in response["Responses"].get(self.name, []))
                return dict(response.get("UnprocessedKeys") or {})

            until_processed(request, send)
        return found

    def batch_put(self, items: Iterable[Mapping[str, Any]]) -> int:
        """BatchWriteItem puts, 25 a request, unprocessed items sent again after a backoff.
        Unconditional: the last item given for a key wins. Returns the requests made."""
        unique = {(str(i["pk"]), str(i["sk"])): i for i in items}
        entries = [{"PutRequest": {"Item": serialize(i)}} for i in unique.values()]
        requests = 0
        for start in range(0, len(entries), BATCH_WRITE_ITEMS):
            request = {self.name: entries[start : start + BATCH_WRITE_ITEMS]}
            requests += until_processed(request, self._write_batch)
        return requests

    def _write_batch(self, request: dict[str, Any]) -> dict[str, Any]:
        response = self._client.batch_write_item(RequestItems=request)
        return dict(response.get("UnprocessedItems") or {})

    def write(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """One PutItem / DeleteItem / UpdateItem (`operation` "Put", "Delete" or "Update") from
        the parameters a TransactWriteItems operation of that name takes; the attributes
        DynamoDB returned. A failed condition raises (see `is_condition_failed`)."""
        send = {
            "Put": self._client.put_item,
            "Delete": self._client.delete_item,
            "Update": self._client.update_item,
        }[operation]
        return deserialize(send(**request).get("Attributes") or {})

    def transact_write(self, operations: list[dict[str, Any]], token: str | None = None) -> None:
        """TransactWriteItems through `transact` (retried with backoff on conflicts and
        throttling, one ClientRequestToken for all attempts: `token`, else a new one)."""
        transact(self._client.transact_write_items, operations, token)

    def transact_write_if(self, operations: list[dict[str, Any]], token: str | None = None) -> bool:
        """`transact_write`; False when it was cancelled (a condition failed, or the retries
        for conflicts ran out)."""
        return _succeeded(
            lambda: self.transact_write(operations, token=token), "TransactionCanceledException"
        )
