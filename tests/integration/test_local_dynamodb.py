"""The local stack's DynamoDB answers as DynamoDB does, with `hubdev.aws`'s speed-ups on.

`hubdev.aws` changes how moto works inside (Queries read one partition, a transaction backs up
only the items it names, attribute values are serialised directly, one lock per table): these
tests pin what a caller sees — results, order, pagination, binary values, a cancelled
transaction leaving items and the stream as they were, and calls on one table not waiting for
another table's.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from hubdev import aws
from hubdev.stack import LocalStack

VALUES: list[dict[str, Any]] = [
    {"S": "plain"},
    {"S": ""},
    {"S": "zażółć ✓"},
    {"N": "42"},
    {"N": "-1.5"},
    {"B": b"\x00\xffbinary"},
    {"B": b""},
    {"SS": ["a", "b"]},
    {"NS": ["1", "2.5"]},
    {"BS": [b"\x01", b"\x02\x03"]},
    {"BOOL": True},
    {"BOOL": False},
    {"NULL": True},
    {"L": [{"S": "x"}, {"N": "1"}, {"B": b"\x07"}, {"L": []}, {"M": {}}]},
    {"M": {"inner": {"M": {"deep": {"BS": [b"\x09"]}, "n": {"N": "3"}}}, "l": {"L": []}}},
]


@pytest.fixture
def dynamodb(stack: LocalStack) -> Any:
    return boto3.client("dynamodb", endpoint_url=stack.endpoint)


@pytest.fixture
def data_table(stack: LocalStack) -> str:
    return stack.resources.table_names["DataTable"]


@pytest.fixture
def events_table(stack: LocalStack) -> str:
    return stack.resources.table_names["EventsTable"]


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _query_all(dynamodb: Any, table: str, **kwargs: Any) -> list[list[str]]:
    """Every page of a Query, as [[sk, ...] per page]."""
    pages, start = [], None
    while True:
        extra: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        response = dynamodb.query(TableName=table, **kwargs, **extra)
        pages.append([item["sk"]["S"] for item in response["Items"]])
        start = response.get("LastEvaluatedKey")
        if not start:
            return pages


def test_a_query_reads_its_partition_in_key_order_with_pagination(
    dynamodb: Any, data_table: str
) -> None:
    mine, other = f"LOCALQ#{uuid.uuid4().hex}", f"LOCALQ#{uuid.uuid4().hex}"
    keys = [f"K#{n:03d}" for n in (7, 1, 12, 3, 30, 2, 11)]
    for sk in keys:
        dynamodb.put_item(TableName=data_table, Item={**_key(mine, sk), "v": {"N": "1"}})
        dynamodb.put_item(TableName=data_table, Item=_key(other, sk))
    values = {":pk": {"S": mine}}
    in_order = sorted(keys)

    pages = _query_all(
        dynamodb,
        data_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=values,
        Limit=3,
        ConsistentRead=True,
    )
    assert pages == [in_order[0:3], in_order[3:6], in_order[6:]]

    backwards = _query_all(
        dynamodb,
        data_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=values,
        ScanIndexForward=False,
        Limit=4,
    )
    assert backwards == [in_order[::-1][0:4], in_order[::-1][4:]]

    between = _query_all(
        dynamodb,
        data_table,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
        ExpressionAttributeValues={**values, ":lo": {"S": "K#002"}, ":hi": {"S": "K#011"}},
    )
    assert between == [["K#002", "K#003", "K#007", "K#011"]]

    missing = dynamodb.query(
        TableName=data_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"LOCALQ#{uuid.uuid4().hex}"}},
    )
    assert missing["Items"] == [] and missing["Count"] == 0


def test_every_kind_of_attribute_value_comes_back_as_it_was_stored(
    dynamodb: Any, data_table: str
) -> None:
    pk = f"LOCALV#{uuid.uuid4().hex}"
    item = {**_key(pk, "ITEM"), **{f"a{n}": value for n, value in enumerate(VALUES)}}
    dynamodb.put_item(TableName=data_table, Item=item)

    got = dynamodb.get_item(TableName=data_table, Key=_key(pk, "ITEM"), ConsistentRead=True)
    queried = dynamodb.query(
        TableName=data_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )["Items"]
    updated = dynamodb.update_item(
        TableName=data_table,
        Key=_key(pk, "ITEM"),
        UpdateExpression="SET touched = :t",
        ExpressionAttributeValues={":t": {"BOOL": True}},
        ReturnValues="ALL_NEW",
    )["Attributes"]

    assert got["Item"] == item
    assert queried == [item]
    assert updated == {**item, "touched": {"BOOL": True}}


def test_attribute_values_are_serialised_as_moto_would() -> None:
    """The direct path writes exactly what moto's generic serializer writes."""
    from moto.core.serialize import BaseJSONSerializer, JSONSerializer
    from moto.core.utils import get_service_model

    structure = BaseJSONSerializer._serialize_type_structure
    mapping = BaseJSONSerializer._serialize_type_map
    if not hasattr(structure, "_original"):
        pytest.skip("the local stack runs without its shortcuts (HUBDEV_MOTO_SHORTCUTS=0)")
    service = get_service_model("dynamodb")
    item = {f"a{n}": value for n, value in enumerate(VALUES)}
    results = {
        "Query": {"Items": [item, {"only": {"S": "x"}}], "Count": 2, "ScannedCount": 2},
        "GetItem": {"Item": item},
        "BatchGetItem": {"Responses": {"t": [item]}, "UnprocessedKeys": {}},
        "UpdateItem": {"Attributes": item},
    }

    def serialise(operation: str) -> Any:
        serializer = JSONSerializer(operation_model=service.operation_model(operation))
        return serializer.serialize(results[operation])

    for operation in results:
        direct = serialise(operation)
        setattr(BaseJSONSerializer, "_serialize_type_structure", structure._original)  # noqa: B010
        setattr(BaseJSONSerializer, "_serialize_type_map", mapping._original)  # noqa: B010
        try:
            generic = serialise(operation)
        finally:
            setattr(BaseJSONSerializer, "_serialize_type_structure", structure)  # noqa: B010
            setattr(BaseJSONSerializer, "_serialize_type_map", mapping)  # noqa: B010
        assert direct == generic, operation


@pytest.fixture
def streams(stack: LocalStack) -> Any:
    return boto3.client("dynamodbstreams", endpoint_url=stack.endpoint)


def _stream_records(streams: Any, arn: str) -> list[dict[str, Any]]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    while iterator:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        records += response["Records"]
        if not response["Records"]:
            return records
        iterator = response.get("NextShardIterator")
    return records


def test_a_cancelled_transaction_leaves_items_and_stream_as_they_were(
    stack: LocalStack, dynamodb: Any, streams: Any, events_table: str
) -> None:
    arn = stack.resources.stream_arns["EventsTable"]
    pk = f"LOCALT#{uuid.uuid4().hex}"
    dynamodb.put_item(TableName=events_table, Item={**_key(pk, "A"), "x": {"N": "1"}})
    dynamodb.put_item(TableName=events_table, Item={**_key(pk, "C"), "x": {"N": "1"}})
    dynamodb.put_item(TableName=events_table, Item={**_key(pk, "D"), "x": {"N": "1"}})
    before = _stream_records(streams, arn)

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": events_table,
                        "Key": _key(pk, "A"),
                        "UpdateExpression": "SET x = :two, y = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": events_table, "Item": {**_key(pk, "B"), "x": {"N": "2"}}}},
                {"Delete": {"TableName": events_table, "Key": _key(pk, "D")}},
                {
                    "Put": {
                        "TableName": events_table,
                        "Item": _key(pk, "C"),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert "ConditionalCheckFailed" in reasons

    def stored(sk: str) -> dict[str, Any] | None:
        found = dynamodb.get_item(TableName=events_table, Key=_key(pk, sk), ConsistentRead=True)
        item: dict[str, Any] | None = found.get("Item")
        return item

    assert stored("A") == {**_key(pk, "A"), "x": {"N": "1"}}
    assert stored("B") is None
    assert stored("C") == {**_key(pk, "C"), "x": {"N": "1"}}
    assert stored("D") == {**_key(pk, "D"), "x": {"N": "1"}}
    assert _stream_records(streams, arn) == before, "the cancelled writes left no stream record"

    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": events_table, "Item": {**_key(pk, "B"), "x": {"N": "3"}}}},
            {
                "Update": {
                    "TableName": events_table,
                    "Key": _key(pk, "A"),
                    "UpdateExpression": "SET x = :three",
                    "ExpressionAttributeValues": {":three": {"N": "3"}},
                }
            },
        ]
    )
    after = _stream_records(streams, arn)
    new = after[len(before) :]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["sk"]["S"]) for r in new] == [
        ("INSERT", "B"),
        ("MODIFY", "A"),
    ]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in after]
    assert numbers == sorted(set(numbers)), "sequence numbers stay unique and increasing"
    assert stored("A") == {**_key(pk, "A"), "x": {"N": "3"}}


def test_a_transaction_naming_one_item_twice_is_refused_and_changes_nothing(
    dynamodb: Any, data_table: str
) -> None:
    pk = f"LOCALT#{uuid.uuid4().hex}"
    dynamodb.put_item(TableName=data_table, Item={**_key(pk, "A"), "x": {"N": "1"}})
    update = {
        "Update": {
            "TableName": data_table,
            "Key": _key(pk, "A"),
            "UpdateExpression": "SET x = :two",
            "ExpressionAttributeValues": {":two": {"N": "2"}},
        }
    }
    with pytest.raises(dynamodb.exceptions.ClientError):
        dynamodb.transact_write_items(TransactItems=[update, update])
    found = dynamodb.get_item(TableName=data_table, Key=_key(pk, "A"), ConsistentRead=True)
    assert found["Item"]["x"] == {"N": "1"}


def test_request_tables_names_every_table_a_request_touches() -> None:
    assert aws.request_tables({"TableName": "a", "Key": {}}) == ["a"]
    assert aws.request_tables({"RequestItems": {"a": {}, "b": {}}}) == ["a", "b"]
    assert aws.request_tables(
        {"TransactItems": [{"Put": {"TableName": "b"}}, {"Update": {"TableName": "a"}}]}
    ) == ["b", "a"]
    assert aws.request_tables({}) == []
    assert aws.request_tables(None) == []


@pytest.fixture
def held_data_table(data_table: str) -> Iterator[threading.Event]:
    """The DataTable's lock held by another thread until the returned event is set."""
    if not aws.shortcuts_enabled():
        pytest.skip("one lock for all tables (HUBDEV_MOTO_SHORTCUTS=0)")
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with aws._TABLE_LOCKS.holding([data_table]):
            taken.set()
            release.wait(30)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(10)
    yield release
    release.set()
    holder.join(10)


def test_a_call_on_one_table_does_not_wait_for_another_tables_call(
    stack: LocalStack, data_table: str, held_data_table: threading.Event
) -> None:
    metrics = stack.resources.table_names["MetricsTable"]
    done: dict[str, threading.Event] = {data_table: threading.Event(), metrics: threading.Event()}

    def read(table: str) -> None:
        client = boto3.client("dynamodb", endpoint_url=stack.endpoint)
        client.get_item(TableName=table, Key=_key("LOCALL#none", "none"))
        done[table].set()

    for table in done:
        threading.Thread(target=read, args=(table,), daemon=True).start()
    assert done[metrics].wait(20), "the metrics table answered while the data table was busy"
    assert not done[data_table].is_set(), "the data table's call waited for its lock"
    held_data_table.set()
    assert done[data_table].wait(20)
