"""Sample events under events/ are valid AWS event shapes (Powertools parser models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventV2Model,
    DynamoDBStreamModel,
    EventBridgeModel,
    SqsModel,
)

from hubdev.template import ROOT, Template

TEMPLATE = Template()
SAMPLES = sorted((ROOT / "events").glob("*/*.json"))


def _model_for(sample: Path) -> type | None:
    event = json.loads(sample.read_text(encoding="utf-8"))
    if event.get("type") == "REQUEST":
        return None  # authorizer request: checked by its own test below
    if "routeKey" in event:
        return APIGatewayProxyEventV2Model
    if event.get("detail-type") == "Scheduled Event":
        return EventBridgeModel
    records = event.get("Records") or []
    if records and records[0].get("eventSource") == "aws:dynamodb":
        return DynamoDBStreamModel
    if records and records[0].get("eventSource") == "aws:sqs":
        return SqsModel
    raise AssertionError(f"{sample}: unknown event shape")


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_event_matches_its_aws_shape(sample: Path) -> None:
    model = _model_for(sample)
    event = json.loads(sample.read_text(encoding="utf-8"))
    if model is None:
        assert event["version"] == "2.0" and event["routeArn"].startswith("arn:aws:execute-api")
        return
    model.model_validate(event)  # type: ignore[attr-defined]


def test_every_event_folder_belongs_to_a_function() -> None:
    names = {f.short_name for f in TEMPLATE.functions.values()}
    assert {p.parent.name for p in SAMPLES} <= names
