"""Configuration is read and checked when a function's first invocation starts: a function
deployed without one of its environment variables fails loudly, naming it, before any AWS call."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from customer_hub.infra import config as configuration
from customer_hub.infra import store
from customer_hub.infra.config import REQUIRED, MissingConfiguration, checked_config, config

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = {
    "STAGE": "test",
    "DATA_TABLE": "data",
    "EVENTS_TABLE": "events",
    "METRICS_TABLE": "metrics",
    "IDEMPOTENCY_TABLE": "idempotency",
    "SECRETS_PREFIX": "customer-hub/test",
    "SMILE_API_BASE_URL": "http://127.0.0.1:9/v1",
}


@pytest.fixture
def fresh_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A cold container: nothing checked or read yet."""
    monkeypatch.setattr(configuration, "_checked", set())
    config.cache_clear()
    yield
    config.cache_clear()


def test_every_variable_the_template_gives_every_function_is_required(
    monkeypatch: pytest.MonkeyPatch, fresh_config: None
) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)

    assert checked_config().data_table == "data"
    assert set(REQUIRED) == set(ENVIRONMENT)
    template = (ROOT / "template.yaml").read_text(encoding="utf-8")
    globals_ = template.split("Globals:", 1)[1].split("Resources:", 1)[0]
    assert all(f"{name}:" in globals_ for name in REQUIRED)


@pytest.mark.parametrize("missing", sorted(ENVIRONMENT))
def test_a_missing_variable_is_named(missing: str) -> None:
    environment = {k: v for k, v in ENVIRONMENT.items() if k != missing}

    with pytest.raises(MissingConfiguration, match=rf"variable {missing} not set"):
        checked_config(environment)


def test_empty_counts_as_missing() -> None:
    with pytest.raises(MissingConfiguration, match="variables DATA_TABLE, SECRETS_PREFIX not"):
        checked_config({**ENVIRONMENT, "DATA_TABLE": "", "SECRETS_PREFIX": ""})


def _function(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"config_test_{name}", ROOT / "functions" / name / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Context:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"


@pytest.mark.parametrize(
    ("function", "sample"),
    [("get_loyalty", "logged-in.json"), ("get_settings", None), ("redeem_reward", None)],
)
def test_the_first_invocation_without_a_table_fails_naming_it_before_any_aws_call(
    function: str,
    sample: str | None,
    monkeypatch: pytest.MonkeyPatch,
    fresh_config: None,
) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATA_TABLE")

    def not_reached(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the request went on past the configuration")

    monkeypatch.setattr(store, "client", not_reached)  # no DynamoDB call
    folder = ROOT / "events" / function
    event = json.loads(
        (folder / (sample or sorted(p.name for p in folder.glob("*.json"))[0])).read_text()
    )
    module = _function(function)
    monkeypatch.setattr(module.app, "resolve", not_reached)  # no route code either
    handler = module.handler

    with pytest.raises(MissingConfiguration, match="DATA_TABLE not set"):
        handler(event, _Context())
    with pytest.raises(MissingConfiguration, match="DATA_TABLE not set"):  # every invocation
        handler(event, _Context())


def _sample(function: str) -> dict[str, Any]:
    folder = ROOT / "events" / function
    event: dict[str, Any] = json.loads(sorted(folder.glob("*.json"))[0].read_text())
    return event


def test_a_misconfigured_authorizer_lets_the_route_answer_503_not_a_500(
    monkeypatch: pytest.MonkeyPatch, fresh_config: None
) -> None:
    """The authorizer answers quickly (no lookup) and the merchant route refuses the request
    with a retryable problem+json, as when the key lookup is throttled."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATA_TABLE")

    def not_reached(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the authorizer looked the key up without its configuration")

    monkeypatch.setattr(store, "client", not_reached)
    answer = _function("merchant_authorizer").handler(_sample("merchant_authorizer"), _Context())
    assert answer == {
        "isAuthorized": True,
        "context": {"merchant_id": "", "unavailable": "configuration"},
    }

    monkeypatch.setenv("DATA_TABLE", "data")  # the route's own function is configured
    event = _sample("get_settings")
    event["requestContext"]["authorizer"] = {"lambda": answer["context"]}
    reply = _function("get_settings").handler(event, _Context())
    assert reply["statusCode"] == 503
    assert json.loads(reply["body"])["type"].endswith("/temporarily-unavailable")
    assert reply["headers"]["Retry-After"] == "1"


@pytest.mark.parametrize(
    ("function", "missing"),
    [
        ("smile_sync_scheduler", "SYNC_QUEUE_URL"),  # a schedule, with its own variable
        ("smile_sync_worker", "SYNC_QUEUE_URL"),  # a queue consumer
        ("metric_rollups", "METRICS_TABLE"),  # a stream consumer
        ("request_smile_sync", "SYNC_QUEUE_URL"),  # a merchant route that enqueues
    ],
)
def test_every_kind_of_function_fails_its_first_invocation_naming_its_own_variable(
    function: str, missing: str, monkeypatch: pytest.MonkeyPatch, fresh_config: None
) -> None:
    for name, value in {**ENVIRONMENT, "SYNC_QUEUE_URL": "http://127.0.0.1:9/queue"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)

    def not_reached(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the invocation went on past the configuration")

    monkeypatch.setattr(store, "client", not_reached)
    module = _function(function)
    for name in ("jobs", "apply_stream_batch", "app"):  # no work, no route code
        if hasattr(module, name):
            monkeypatch.setattr(module, name, not_reached)

    for _ in range(2):  # the first invocation, and every one until it is set
        with pytest.raises(MissingConfiguration, match=f"variable {missing} not set"):
            module.handler(_sample(function), _Context())
