"""The AWS emulation: moto in server mode on 127.0.0.1, resources created from template.yaml."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from hubdev.template import Template

REGION = "us-east-1"
ACCOUNT = "123456789012"
STAGE = "local"

# Fake credentials for the emulation only; boto3 refuses to sign without some.
LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _TableLocks:
    """One re-entrant lock per DynamoDB table of the emulation, taken in name order."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    def lock(self, name: str) -> threading.RLock:
        with self._guard:
            found = self._locks.get(name)
            if found is None:
                found = self._locks[name] = threading.RLock()
            return found

    @contextmanager
    def holding(self, names: list[str]) -> Iterator[None]:
        locks = [self.lock(name) for name in sorted(set(names))]
        for taken in locks:
            taken.acquire()
        try:
            yield
        finally:
            for taken in reversed(locks):
                taken.release()


_TABLE_LOCKS = _TableLocks()
_NO_TABLE = "<no table>"  # ListTables and the like: serialised among themselves only
_ALL_TABLES = "<all tables>"  # without the shortcuts: one DynamoDB call at a time


def request_tables(params: Any) -> list[str]:
    """The tables one DynamoDB request touches (its parsed parameters)."""
    if not isinstance(params, dict):
        return []
    names: list[str] = []
    if isinstance(params.get("TableName"), str):
        names.append(params["TableName"])
    names += [str(name) for name in params.get("RequestItems") or {}]
    for entry in params.get("TransactItems") or []:
        for operation in (entry or {}).values():
            if isinstance(operation, dict) and isinstance(operation.get("TableName"), str):
                names.append(operation["TableName"])
    return names


def shortcuts_enabled() -> bool:
    """The emulation's speed-ups (per-table locks, partition Queries, item-level transaction
    backups, direct attribute values, one listing of moto's modules).

    `HUBDEV_MOTO_SHORTCUTS=0` runs moto as it comes, with one lock for all of DynamoDB: the
    load benchmark's baseline, or a way to rule the shortcuts out when something looks wrong.
    """
    return os.environ.get("HUBDEV_MOTO_SHORTCUTS", "1") != "0"


def _serialise_dynamodb() -> None:
    """One DynamoDB call at a time per table in moto: its UpdateItem stores a key-only item
    before it applies the update, so a concurrent Query of the same table could read an item
    DynamoDB never shows (the reliability suite's parallel redemptions found it). Real DynamoDB
    writes items atomically. A request holds the locks of every table it names (a transaction
    or batch several, in name order), so calls on different tables do not wait for each other."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_serialised", False):
        return
    original = DynamoHandler.call_action
    per_table = shortcuts_enabled()

    def call_action(self: Any) -> Any:
        names = (
            request_tables(getattr(self, "params", None)) or [_NO_TABLE]
            if per_table
            else [_ALL_TABLES]
        )
        with _TABLE_LOCKS.holding(names):
            return original(self)

    call_action._serialised = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


_query_scope = threading.local()


def _partition_queries() -> None:
    """Make moto's Query read one partition instead of sorting the whole table.

    moto's `Table.query` starts from `all_items()`, every item of the table sorted by key, and
    keeps those of the queried partition (or index key): with the demo data every storefront
    read sorted thousands of items (most of `hub dev`'s CPU under load). During a base-table
    Query `all_items()` now returns just that partition, which is exactly what moto kept from
    the full list; during an index Query it skips the sort, as moto sorts the matches by the
    index key afterwards. Results, order and pagination are unchanged.
    """
    from moto.dynamodb.models.table import Table as MotoTable

    if getattr(MotoTable.query, "_partitioned", False):
        return
    original_query = MotoTable.query
    original_all_items = MotoTable.all_items

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        _query_scope.scope = (hash_key, index_name is None)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _query_scope.scope = None

    def all_items(self: Any) -> list[Any]:
        scope = getattr(_query_scope, "scope", None)
        if scope is None:
            return original_all_items(self)
        _query_scope.scope = None  # once per Query
        hash_key, base_table = scope
        if base_table and hash_key is not None:
            partition = self.items.get(hash_key)
            if partition is None:
                return []
            return list(partition.values()) if self.range_key_attr else [partition]
        items: list[Any] = []
        for partition in self.items.values():
            items.extend(partition.values() if self.range_key_attr else [partition])
        return items

    query._partitioned = True  # type: ignore[attr-defined]
    MotoTable.query = query  # type: ignore[method-assign]
    MotoTable.all_items = all_items  # type: ignore[method-assign]


_transaction = threading.local()


def _item_level_transactions() -> None:
    """Make a moto TransactWriteItems back up the items it touches, not whole tables.

    moto deep-copies every table a transaction names (items and stream records included) to
    restore it when the transaction is cancelled, so each roll-up or webhook transaction cost
    time proportional to everything stored so far. The backup here holds only what the
    transaction can change: a copy of each item it names (or their absence) and the length of
    each stream. A cancelled transaction restores exactly those, as moto's whole-table restore
    did for them (every other item was untouched and is left as it is).
    """
    import copy as real_copy

    import moto.dynamodb.models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table as MotoTable

    if getattr(DynamoDBBackend.transact_write_items, "_item_level", False):
        return

    class _Copy:
        """moto's `copy` module for its backend: tables are not copied inside a transaction."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real_copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if getattr(_transaction, "active", False) and isinstance(value, MotoTable):
                return value
            return real_copy.deepcopy(value, memo)

    backend_module.copy = _Copy()  # type: ignore[assignment]
    original = DynamoDBBackend.transact_write_items

    def snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> list[Any]:
        saved: list[Any] = []
        tables = {}
        for entry in transact_items:
            for op_type, op in entry.items():
                table = backend.tables.get(op.get("TableName"))
                if table is None:
                    continue
                tables[table.name] = table
                key = op.get("Item") if op_type == "Put" else op.get("Key")
                if not isinstance(key, dict) or table.hash_key_attr not in key:
                    continue
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = (
                    DynamoType(key[table.range_key_attr])
                    if table.range_key_attr and table.range_key_attr in key
                    else None
                )
                if table.range_key_attr and range_value is None:
                    continue
                partition = table.items.get(hash_value)
                current = (partition or {}).get(range_value) if table.range_key_attr else partition
                saved.append(("item", table, hash_value, range_value, real_copy.deepcopy(current)))
        for table in tables.values():
            if table.stream_shard is not None:
                saved.append(("stream", table, table.stream_shard, len(table.stream_shard.items)))
        return saved

    def restore(saved: list[Any]) -> None:
        for entry in saved:
            if entry[0] == "stream":
                _, table, shard, length = entry
                del shard.items[length:]
                table.stream_shard = shard
                continue
            _, table, hash_value, range_value, item = entry
            if table.range_key_attr:
                partition = table.items[hash_value]
                if item is None:
                    partition.pop(range_value, None)
                else:
                    partition[range_value] = item
            elif item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = snapshot(self, transact_items) if len(transact_items) <= 100 else []
        _transaction.active = True
        try:
            original(self, transact_items)
        except BaseException:
            restore(saved)
            raise
        finally:
            _transaction.active = False

    transact_write_items._item_level = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _wire_value(value: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB AttributeValue as moto's response serializer writes it (blobs in base64)."""
    out: dict[str, Any] = {}
    for kind, inner in value.items():
        if inner is None:
            continue
        if kind in ("S", "N"):
            out[kind] = str(inner)
        elif kind == "B":
            out[kind] = _base64(inner)
        elif kind in ("SS", "NS"):
            out[kind] = [str(v) for v in inner]
        elif kind == "BS":
            out[kind] = [_base64(v) for v in inner]
        elif kind == "M":
            out[kind] = {k: _wire_value(v) for k, v in inner.items() if v is not None}
        elif kind == "L":
            out[kind] = [_wire_value(v) for v in inner]
        elif kind in ("NULL", "BOOL"):
            out[kind] = inner
    return out


def _base64(value: str | bytes) -> str:
    import base64

    raw = value.encode("utf-8") if isinstance(value, str) else value
    return base64.b64encode(raw).strip().decode("utf-8")


def _direct_attribute_values() -> None:
    """Serialise DynamoDB attribute values in moto's responses directly.

    moto's generic response serializer walks the botocore shape of every attribute value
    (a structure of ten members, recursively through maps and lists), which made item-heavy
    responses (a Query of a shopper's snapshot and coupons) the largest CPU cost of `hub dev`.
    Attribute values, and maps of them, are written here as that walk writes them; every other
    part of a response still goes through moto (tests compare both on sample values).
    """
    from moto.core.serialize import BaseJSONSerializer

    if getattr(BaseJSONSerializer._serialize_type_structure, "_direct", False):
        return
    original_structure = BaseJSONSerializer._serialize_type_structure
    original_map = BaseJSONSerializer._serialize_type_map

    def structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name != "AttributeValue" or not isinstance(value, dict):
            original_structure(self, serialized, value, shape, key)
            return
        if key:
            serialized[self.get_serialized_name(shape, key)] = _wire_value(value)
        else:
            serialized.update(_wire_value(value))

    def mapping(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if getattr(shape.value, "name", None) != "AttributeValue" or not isinstance(value, dict):
            original_map(self, serialized, value, shape, key)
            return
        serialized[self.get_serialized_name(shape, key)] = {
            k: _wire_value(v) for k, v in value.items() if isinstance(v, dict)
        }

    structure._direct = True  # type: ignore[attr-defined]
    structure._original = original_structure  # type: ignore[attr-defined]
    mapping._original = original_map  # type: ignore[attr-defined]
    BaseJSONSerializer._serialize_type_structure = structure  # type: ignore[method-assign]
    BaseJSONSerializer._serialize_type_map = mapping  # type: ignore[method-assign]


def _listed_modules_once() -> None:
    """moto's server lists its package directory (and stats every entry) on every request to
    find the service of the request's host; the listing never changes while it runs."""
    import moto.backends as moto_backends

    if getattr(moto_backends.list_of_moto_modules, "_listed_once", False):
        return
    listed = tuple(moto_backends.list_of_moto_modules())

    def list_of_moto_modules() -> tuple[str, ...]:
        return listed

    list_of_moto_modules._listed_once = True  # type: ignore[attr-defined]
    setattr(moto_backends, "list_of_moto_modules", list_of_moto_modules)  # noqa: B010


def install_query_and_transaction_shortcuts() -> None:
    """The two shortcuts that make moto's DynamoDB cost grow with the items a request touches
    rather than with the table; the roll-up benchmark runs on them too, and checks them."""
    _partition_queries()
    _item_level_transactions()


def start_moto(port: int = 0) -> tuple[Any, str]:
    """Start moto's threaded server on 127.0.0.1; returns (server, endpoint URL)."""
    from moto.server import ThreadedMotoServer

    _serialise_dynamodb()
    if shortcuts_enabled():
        install_query_and_transaction_shortcuts()
        _direct_attribute_values()
        _listed_modules_once()
    port = port or free_port()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


@dataclass
class Resources:
    """Physical names and ARNs of the template's resources in the emulation."""

    table_names: dict[str, str] = field(default_factory=dict)
    stream_arns: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)

    def ref(self, logical_id: str) -> str:
        if logical_id in self.table_names:
            return self.table_names[logical_id]
        if logical_id in self.queue_urls:
            return self.queue_urls[logical_id]
        return {
            "Stage": STAGE,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": "customer-hub-local",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
        }.get(logical_id, logical_id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "StreamArn":
            return self.stream_arns[logical_id]
        if attribute == "Arn" and logical_id in self.queue_arns:
            return self.queue_arns[logical_id]
        if attribute == "Arn" and logical_id in self.table_names:
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.table_names[logical_id]}"
        if attribute == "QueueName" and logical_id in self.queue_urls:
            return self.queue_urls[logical_id].rsplit("/", 1)[-1]
        return f"arn:aws:local:{REGION}:{ACCOUNT}:{logical_id}"

    def resolve(self, value: Any, parameters: dict[str, str] | None = None) -> Any:
        """Resolve Ref / GetAtt / Sub / Join against the emulation's resources."""
        parameters = parameters or {}
        if isinstance(value, dict) and len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref":
                return parameters.get(arg, self.ref(arg))
            if name == "Fn::GetAtt":
                return self.get_att(arg[0], arg[1])
            if name == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

                def substitute(match: Any) -> str:
                    token = match.group(1)
                    if token in extra:
                        return str(self.resolve(extra[token], parameters))
                    if "." in token:
                        return self.get_att(*token.split(".", 1))
                    return str(parameters.get(token, self.ref(token)))

                import re

                return re.sub(r"\$\{([^}]+)\}", substitute, text)
            if name == "Fn::Join":
                return str(arg[0]).join(str(self.resolve(v, parameters)) for v in arg[1])
        return value


def template_parameters(template: Template) -> dict[str, str]:
    defaults = {
        name: str(spec.get("Default", ""))
        for name, spec in template.document.get("Parameters", {}).items()
    }
    defaults["Stage"] = STAGE
    return defaults


def create_resources(template: Template, endpoint: str, prefix: str = "hub-local") -> Resources:
    """Create every table (keys, indexes, stream, TTL) and queue of the template."""
    session = boto3.session.Session(
        aws_access_key_id=LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    resources = Resources()
    for logical_id, props in template.tables.items():
        name = f"{prefix}-{logical_id}"
        args: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        described = dynamodb.create_table(**args)["TableDescription"]
        if "LatestStreamArn" in described:
            resources.stream_arns[logical_id] = described["LatestStreamArn"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        resources.table_names[logical_id] = name
    for logical_id, props in template.queues.items():
        fifo = bool(props.get("FifoQueue"))
        name = f"{prefix}-{logical_id}" + (".fifo" if fifo else "")
        attributes = {
            k: str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in props.items()
            if k
            in (
                "FifoQueue",
                "ContentBasedDeduplication",
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "DelaySeconds",
            )
        }
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
        resources.queue_urls[logical_id] = url
        resources.queue_arns[logical_id] = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
    return resources


def function_environment(template: Template, resources: Resources) -> dict[str, str]:
    """The union of every function's resolved environment variables."""
    parameters = template_parameters(template)
    env: dict[str, str] = {}
    for function in template.functions.values():
        for name, value in function.environment.items():
            env[name] = str(resources.resolve(value, parameters))
    env.pop("POWERTOOLS_SERVICE_NAME", None)
    return env


def apply_environment(endpoint: str, env: dict[str, str]) -> None:
    os.environ.update(LOCAL_AWS_ENV)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    for name, value in env.items():
        if name == "SMILE_API_BASE_URL" and os.environ.get(name):
            continue
        os.environ[name] = value
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "customer-hub")
    from customer_hub.infra.config import config

    config.cache_clear()
