"""Sample events under events/ are valid AWS event shapes (Powertools parser models) and are the
events AWS would really send to their function, as template.yaml wires it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    ApiGatewayAuthorizerRequestV2,
    APIGatewayProxyEventV2Model,
    DynamoDBStreamModel,
    EventBridgeModel,
    SqsModel,
)
from pydantic import BaseModel

from hubdev.events import stream_event
from hubdev.samples import TTL_IDENTITY, event_kind, load_event
from hubdev.template import ROOT, Template

TEMPLATE = Template()
SAMPLES = sorted((ROOT / "events").glob("*/*.json"))
BY_FOLDER = {f.short_name: f.logical_id for f in TEMPLATE.functions.values()}

MODELS: dict[str, type[BaseModel]] = {
    "http": APIGatewayProxyEventV2Model,
    "authorizer": ApiGatewayAuthorizerRequestV2,
    "schedule": EventBridgeModel,
    "eventbridge": EventBridgeModel,
    "dynamodb": DynamoDBStreamModel,
    "sqs": SqsModel,
}
# SAM event source type → the kind of event it delivers.
SOURCE_KINDS = {
    "HttpApi": "http",
    "Schedule": "schedule",
    "ScheduleV2": "schedule",
    "EventBridgeRule": "eventbridge",
    "CloudWatchEvent": "eventbridge",
    "DynamoDB": "dynamodb",
    "SQS": "sqs",
}


def _sample_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _kinds_of(logical_id: str) -> set[str]:
    """What events the template makes AWS send to this function (empty: invoked directly)."""
    properties = TEMPLATE.functions[logical_id].properties
    kinds = {
        SOURCE_KINDS.get(e.get("Type", ""), "?") for e in properties.get("Events", {}).values()
    }
    if logical_id in TEMPLATE.authorizers.values():
        kinds.add("authorizer")
    return kinds


def _samples_of(logical_id: str) -> list[dict[str, Any]]:
    folder = ROOT / "events" / TEMPLATE.functions[logical_id].short_name
    return [load_event(p) for p in sorted(folder.glob("*.json"))]


@pytest.mark.parametrize("sample", SAMPLES, ids=_sample_id)
def test_sample_event_matches_its_aws_shape(sample: Path) -> None:
    event = load_event(sample)
    MODELS[event_kind(event)].model_validate(event)


@pytest.mark.parametrize("sample", SAMPLES, ids=_sample_id)
def test_sample_event_is_what_the_template_delivers_to_its_function(sample: Path) -> None:
    logical_id = BY_FOLDER.get(sample.parent.name)
    assert logical_id, (
        f"{_sample_id(sample)}: no function has CodeUri functions/{sample.parent.name}/"
    )
    event = load_event(sample)
    kind = event_kind(event)
    expected = _kinds_of(logical_id)
    assert not expected or kind in expected, f"{_sample_id(sample)} is {kind}, not {expected}"
    if kind == "http":
        routes = [r for r in TEMPLATE.http_routes if r.function == logical_id]
        keys = {f"{r.method} {r.path}" for r in routes}
        assert event["routeKey"] in keys, f"{_sample_id(sample)}: {event['routeKey']} not in {keys}"
        route = next(r for r in routes if f"{r.method} {r.path}" == event["routeKey"])
        if route.authorizer:
            # API Gateway hands the authorizer's context to the route on every request.
            assert "merchant_id" in event["requestContext"]["authorizer"]["lambda"]
    if kind == "authorizer":
        keys = {f"{r.method} {r.path}" for r in TEMPLATE.http_routes if r.authorizer}
        assert event["routeKey"] in keys, f"{_sample_id(sample)}: no authorized route"


def test_every_event_folder_belongs_to_a_function() -> None:
    names = {f.short_name for f in TEMPLATE.functions.values()}
    assert {p.parent.name for p in SAMPLES} <= names


def test_the_authorizer_has_samples_with_and_without_a_key() -> None:
    for logical_id in set(TEMPLATE.authorizers.values()):
        sources = [bool(e["identitySource"]) for e in _samples_of(logical_id)]
        assert True in sources and False in sources, logical_id


def _matches(pattern: Any, data: Any) -> bool:
    """An event filter pattern against a record: exact values, nested keys (other operators
    such as prefix or anything-but are taken as matching: this check stays on the safe side)."""
    if isinstance(pattern, dict):
        return isinstance(data, dict) and all(
            k in data and _matches(v, data[k]) for k, v in pattern.items()
        )
    if isinstance(pattern, list):
        return any(isinstance(v, dict) or v == data for v in pattern)
    return bool(pattern == data)


def _delivered(filters: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    return not filters or any(_matches(json.loads(f["Pattern"]), record) for f in filters)


def _passes_event_name(filters: list[dict[str, Any]], name: str) -> bool:
    patterns = [json.loads(f["Pattern"]) for f in filters]
    return not patterns or any(_matches(p.get("eventName", [name]), name) for p in patterns)


def _stream_coverage_gaps(
    records: list[dict[str, Any]], filters: list[dict[str, Any]] | None = None
) -> list[str]:
    """What a consumer's samples miss among the changes its stream (and filters) delivers."""
    wanted = {n for n in ("INSERT", "MODIFY", "REMOVE") if _passes_event_name(filters or [], n)}
    gaps = sorted(wanted - {r["eventName"] for r in records})
    if "REMOVE" in wanted and not any(
        r["eventName"] == "REMOVE" and r.get("userIdentity") == TTL_IDENTITY for r in records
    ):
        gaps.append("REMOVE by TTL")
    return gaps


def test_stream_consumer_samples_cover_what_their_stream_delivers() -> None:
    """INSERT, MODIFY, REMOVE and a TTL removal, less what the event filters keep away; and no
    sample record the filters would drop (AWS would never deliver it)."""
    for source in TEMPLATE.stream_sources:
        records = [r for e in _samples_of(source.function) for r in e.get("Records", [])]
        gaps = _stream_coverage_gaps(records, source.filters)
        assert not gaps, (source.function, gaps)
        dropped = [r["eventID"] for r in records if not _delivered(source.filters, r)]
        assert not dropped, f"{source.function}: its filters drop sample records {dropped}"


def test_stream_coverage_notices_a_missing_ttl_removal() -> None:
    def record(name: str, identity: dict[str, str] | None = None) -> dict[str, Any]:
        keys = {"pk": {"S": "MERCHANT#m_0123456789abcdef"}, "sk": {"S": "EVENT#1"}}
        image = {**keys, "points": {"N": "10"}}
        change = {
            "ApproximateCreationDateTime": 1795436548,
            "Keys": keys,
            "SequenceNumber": "1000000000000000000001",
            "SizeBytes": 80,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            **({} if name == "REMOVE" else {"NewImage": image}),
            **({} if name == "INSERT" else {"OldImage": image}),
        }
        return {"eventID": name, "eventName": name, "dynamodb": change, "userIdentity": identity}

    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/events/stream/2026-01-01T00:00:00.000"
    batch = stream_event(arn, [record("INSERT"), record("MODIFY"), record("REMOVE")])
    DynamoDBStreamModel.model_validate(batch)
    assert _stream_coverage_gaps(batch["Records"]) == ["REMOVE by TTL"]
    batch["Records"].append(stream_event(arn, [record("REMOVE", TTL_IDENTITY)])["Records"][0])
    assert _stream_coverage_gaps(batch["Records"]) == []
    orders_only = [{"Pattern": '{"eventName": ["INSERT", "MODIFY"]}'}]
    assert _stream_coverage_gaps(batch["Records"][:1], orders_only) == ["MODIFY"]
    assert not _delivered(orders_only, batch["Records"][2])
