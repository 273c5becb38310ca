"""What every sample event under events/ should produce, whoever runs the function.

Used by the in-process suite (tests/integration/test_sample_events_run.py) and by the container
suite (tests/samlocal, `make sam-local`), so a handler answers the same in both. A sample event
not listed in EXPECTED_STATUS still gets the checks of its kind: no unhandled error; a route
answers below 500 (401 without an authorized merchant) and its errors are problem+json; the
authorizer resolves the sample key to the sample merchant; stream and queue consumers that report
partial batch failures report none for their samples (or those in
EXPECTED_BATCH_ITEM_FAILURES).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hubdev.samples import SAMPLE_API_KEY, SAMPLE_MERCHANT_ID, event_kind, load_event
from hubdev.template import ROOT, Template

# Status codes a sample must produce, by `<function folder>/<file>` (add yours if it is not 2xx).
EXPECTED_STATUS = {
    "get_settings/authorized.json": 200,
    "get_settings/no-api-key.json": 401,
    "patch_settings/launch.json": 200,
    "patch_settings/bad-timezone.json": 422,
    "patch_settings/no-api-key.json": 401,
    "rotate_credential/api-key.json": 200,
    "rotate_credential/unknown-name.json": 422,
    "create_hub_session/signed-long-ago.json": 401,
    "create_hub_session/malformed.json": 422,
    "put_shopify_webhook_secret/set.json": 204,
    "shopify_webhook/orders-create.json": 200,
}

# Batch item failures a consumer's sample must report (itemIdentifier values), if any.
EXPECTED_BATCH_ITEM_FAILURES: dict[str, list[str]] = {}


def sample_cases(template: Template) -> list[tuple[str, Path | None]]:
    """(function, sample event) for every function; (function, None) when it has none."""
    cases: list[tuple[str, Path | None]] = []
    for logical_id, function in sorted(template.functions.items()):
        samples = sorted((ROOT / "events" / function.short_name).glob("*.json"))
        cases += [(logical_id, sample) for sample in samples] or [(logical_id, None)]
    return cases


def case_id(case: tuple[str, Path | None]) -> str:
    function, sample = case
    return f"{function}:{sample.parent.name}/{sample.name}" if sample else f"{function}:NONE"


def _routes_need_merchant(template: Template, function: str) -> bool:
    return any(r.authorizer for r in template.http_routes if r.function == function)


def _reports_item_failures(template: Template, function: str) -> bool:
    sources = [*template.stream_sources, *template.queue_sources]
    return any(s.function == function and s.report_item_failures for s in sources)


def check_response(template: Template, function: str, sample: Path, response: Any) -> None:
    """Assert what a user of `function` would notice when AWS delivers `sample` to it."""
    name = f"{sample.parent.name}/{sample.name}"
    if isinstance(response, dict):
        assert "errorType" not in response, f"{name}: unhandled error {response}"
    event = load_event(sample)
    kind = event_kind(event)
    if kind == "http":
        _check_http(template, function, name, event, response)
    elif kind == "authorizer":
        expected = (
            SAMPLE_MERCHANT_ID if f"Bearer {SAMPLE_API_KEY}" in event["identitySource"] else ""
        )
        assert response == {"isAuthorized": True, "context": {"merchant_id": expected}}, name
    elif kind in ("dynamodb", "sqs") and _reports_item_failures(template, function):
        failed = [{"itemIdentifier": i} for i in EXPECTED_BATCH_ITEM_FAILURES.get(name, [])]
        assert response == {"batchItemFailures": failed}, f"{name}: {response}"


def _check_http(
    template: Template, function: str, name: str, event: dict[str, Any], response: Any
) -> None:
    assert isinstance(response, dict) and isinstance(response.get("statusCode"), int), response
    status = response["statusCode"]
    merchant = (
        event["requestContext"].get("authorizer", {}).get("lambda", {}).get("merchant_id", "")
    )
    if name in EXPECTED_STATUS:
        assert status == EXPECTED_STATUS[name], f"{name}: {response}"
    elif _routes_need_merchant(template, function) and not merchant:
        assert status == 401, f"{name}: a request without a merchant is answered 401: {response}"
    else:
        assert status < 500, f"{name}: {response}"
    if status >= 400:
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        assert headers.get("content-type") == "application/problem+json", f"{name}: {response}"
        assert json.loads(response["body"])["status"] == status, f"{name}: {response}"
