"""Both events-stream consumers read records with Powertools' parser model: a record that is
not a DynamoDB stream record is reported as a batch item failure, the others are handled."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import process_partial_response

from customer_hub.infra.config import REQUIRED, config
from tests.support.streams import stream_record

ROOT = Path(__file__).resolve().parents[2]


def _function(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"fn_{name}", ROOT / "functions" / name / "app.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _order(n: int) -> dict[str, Any]:
    return {"pk": f"MERCHANT#m_1#ORDER#{n}", "sk": "ORDER", "kind": "order", "merchant_id": "m_1"}


def test_mark_coupons_used_reports_unreadable_records_only() -> None:
    app = _function("mark_coupons_used")
    no_codes = stream_record(
        _order(1) | {"order_id": "1", "created_at": "2026-03-02T10:00:00Z"}, "1"
    )
    removed = stream_record(_order(2), "2", event="REMOVE")
    not_a_stream_record = stream_record(_order(3), "3")
    del not_a_stream_record["dynamodb"]["Keys"]
    bad_value = stream_record(_order(4), "4")
    bad_value["dynamodb"]["NewImage"]["merchant_id"] = {"X": "?"}
    event = {"Records": [no_codes, removed, not_a_stream_record, bad_value]}
    response = process_partial_response(event, app.record_handler, app.processor, None)
    assert response == {"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "4"}]}


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The function's configuration, as template.yaml gives it (checked before a batch is read)."""
    for name in REQUIRED:
        monkeypatch.setenv(name, f"test-{name.lower()}")
    config.cache_clear()
    yield
    config.cache_clear()


def test_metric_rollups_reports_unreadable_records_only(
    monkeypatch: pytest.MonkeyPatch, deployed: None
) -> None:
    app = _function("metric_rollups")
    applied: list[list[str]] = []

    def apply(records: list[dict[str, Any]], store: Any) -> Any:
        from customer_hub.metrics.stream import BatchOutcome, read_changes

        outcome = BatchOutcome()
        applied.append([c.sequence for c in read_changes(records, outcome)])
        return outcome

    monkeypatch.setattr(app, "apply_stream_batch", apply)
    monkeypatch.setattr(app, "DynamoMetricsStore", lambda: None)
    event_item = {"pk": "MERCHANT#m_1#EVENT#e1", "sk": "EVENT", "kind": "hub_event"}
    event_item |= {
        "merchant_id": "m_1",
        "type": "help_clicked",
        "occurred_at": "2026-03-02T10:00:00Z",
    }
    good = stream_record(event_item, "1")
    not_a_stream_record = stream_record(event_item, "2")
    del not_a_stream_record["dynamodb"]["Keys"]
    missing_merchant = stream_record(
        {k: v for k, v in event_item.items() if k != "merchant_id"}, "3"
    )
    event = {"Records": [good, not_a_stream_record, missing_merchant]}
    response = app.handler.__wrapped__.__wrapped__(event, None)
    assert applied == [["1"]]
    assert response == {"batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "3"}]}
