"""The largest DynamoDB item the test session writes (issue 18: every item under 350 KB).

A botocore hook on the project's DynamoDB client sizes every item a PutItem, BatchWriteItem or
TransactWriteItems carries (and the values an UpdateItem sets) as DynamoDB counts them: UTF-8
attribute names plus values. An item over `LIMIT` fails the write, so the test that made it
fails; the largest is printed in the session summary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LIMIT = 350 * 1024
largest: dict[str, Any] = {"bytes": 0, "operation": "", "key": ""}
# Where each test suite and benchmark leaves its largest item (gitignored); `bench.items`
# turns it into the section of bench/results.md.
RECORD = Path(__file__).resolve().parents[2] / "test-output" / "largest-items.json"


def value_bytes(value: dict[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind in ("S", "N"):
        return len(str(inner).encode())
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS"):
        return sum(len(str(v).encode()) for v in inner)
    if kind == "BS":
        return sum(len(v) for v in inner)
    if kind == "L":
        return 3 + sum(1 + value_bytes(v) for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + value_bytes(v) for k, v in inner.items())
    return 0


def item_bytes(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_bytes(value) for name, value in item.items())


def _items(operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    if operation == "PutItem":
        return [params.get("Item") or {}]
    if operation == "UpdateItem":  # what it sets, a lower bound of the item's size
        return [{**(params.get("Key") or {}), **(params.get("ExpressionAttributeValues") or {})}]
    if operation == "BatchWriteItem":
        return [
            request["PutRequest"]["Item"]
            for requests in (params.get("RequestItems") or {}).values()
            for request in requests
            if "PutRequest" in request
        ]
    if operation == "TransactWriteItems":
        return [op["Put"]["Item"] for op in params.get("TransactItems") or [] if "Put" in op]
    return []


def _check(params: dict[str, Any], model: Any, **_: Any) -> None:
    for item in _items(model.name, params):
        size = item_bytes(item)
        if size > largest["bytes"]:
            key = "/".join(
                str(next(iter((item.get(k) or {"S": ""}).values()))) for k in ("pk", "sk")
            )
            largest.update(bytes=size, operation=model.name, key=key[:120])
        if size > LIMIT:
            raise AssertionError(f"{model.name} writes an item of {size:,} bytes (> 350 KB)")


def watch(client: Any) -> None:
    client.meta.events.register("provide-client-params.dynamodb", _check)


def summary() -> str:
    return (
        f"largest DynamoDB item written: {largest['bytes']:,} bytes "
        f"({largest['operation']} {largest['key']})"
    )


def record(run: str) -> None:
    """Note this run's largest item in `RECORD` (one entry per run name, the latest kept)."""
    if not largest["bytes"]:
        return
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    try:
        runs = json.loads(RECORD.read_text())
    except (OSError, ValueError):
        runs = {}
    runs[run] = dict(largest)
    RECORD.write_text(json.dumps(runs, indent=1, sort_keys=True) + "\n")
