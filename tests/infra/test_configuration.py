"""Every function checks its configuration when its first invocation starts (one decorator,
`customer_hub.infra.config.checked_at_cold_start`), and checks exactly what template.yaml gives
it: a handler that skips the check, or needs a variable its function is not given, fails here."""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from customer_hub.infra import aws, store
from customer_hub.infra import config as configuration
from customer_hub.infra.config import PER_FUNCTION, REQUIRED, MissingConfiguration, config
from hubdev.template import ROOT, Function, Template

FUNCTIONS = Template().functions
KNOWN = {*REQUIRED, *PER_FUNCTION}  # the variables customer_hub.infra.config reads


class _Context:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _module(function: Function) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"configuration_test_{function.short_name}", function.code_uri / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cold(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A cold container deployed without any of the variables, where no AWS call may happen."""
    for name in KNOWN:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(configuration, "_checked", set())

    def not_reached(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the invocation went on past its configuration check")

    monkeypatch.setattr(store, "client", not_reached)
    monkeypatch.setattr(aws, "client", not_reached)
    config.cache_clear()
    yield
    config.cache_clear()


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_each_handler_checks_the_variables_its_function_is_given(logical_id: str) -> None:
    function = FUNCTIONS[logical_id]
    handler = getattr(_module(function), function.handler.rpartition(".")[2])
    checks = getattr(handler, "required_configuration", None)
    assert checks is not None, f"{logical_id}: the handler does not use checked_at_cold_start"
    given = KNOWN & set(function.environment)
    assert set(checks) == given, f"{logical_id}: checks {sorted(checks)}, given {sorted(given)}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_each_handler_fails_its_first_invocation_naming_what_is_missing(
    logical_id: str, cold: None, caplog: pytest.LogCaptureFixture
) -> None:
    function = FUNCTIONS[logical_id]
    sample = sorted((ROOT / "events" / function.short_name).glob("*.json"))[0]
    event = json.loads(sample.read_text(encoding="utf-8"))
    handler = getattr(_module(function), function.handler.rpartition(".")[2])

    try:
        answer = handler(event, _Context())
    except MissingConfiguration as exc:
        assert "DATA_TABLE" in str(exc)
    else:  # the authorizer answers, so that the route's 503 is problem+json
        assert answer == {
            "isAuthorized": True,
            "context": {"merchant_id": "", "unavailable": "configuration"},
        }, f"{logical_id} answered {answer!r}"
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert critical and "DATA_TABLE" in str(getattr(critical[0], "error", "")), caplog.records
