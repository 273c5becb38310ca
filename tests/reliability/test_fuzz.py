"""API fuzzing: Schemathesis generates requests from the project's OpenAPI document and sends
them to a running `hub dev`, as the demo merchant and as a demo shopper.

No response may be a 5xx, and every response must conform to the document (status code,
content type, schema).
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from hubdev.template import ROOT
from tests.support.devserver import hub_dev

SCHEMA = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def demo() -> Iterator[dict[str, Any]]:
    with hub_dev() as ready:
        yield ready


def _shopper_token(demo: dict[str, Any]) -> str:
    merchant = demo["demo"]
    now = int(time.time())
    claims = {
        "iss": merchant["merchant_id"],
        "sub": "100001",
        "email": "fuzz.shopper@example.com",
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, merchant["customer_token_secret"], algorithm="HS256")


def _security(case: Any) -> set[str]:
    names: set[str] = set()
    for requirement in case.operation.definition.raw.get("security", []):
        names.update(requirement)
    return names


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error_and_conformant_responses(
    case: Any, demo: dict[str, Any], figures: Counter[str]
) -> None:
    merchant = demo["demo"]
    headers: dict[str, str] = {}
    security = _security(case)
    if "MerchantApiKey" in security:
        headers["Authorization"] = f"Bearer {merchant['api_key']}"
    elif "CustomerToken" in security:
        headers["Authorization"] = f"Bearer {_shopper_token(demo)}"
    if case.path_parameters and "merchant_id" in case.path_parameters:
        case.path_parameters["merchant_id"] = merchant["merchant_id"]
    if case.method.upper() == "POST" and "/redeem" in case.path:
        headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
    figures["fuzz cases"] += 1
    response = case.call(base_url=demo["url"], headers=headers, timeout=30)
    figures[f"fuzz {response.status_code // 100}xx"] += 1
    case.validate_response(response, checks=CHECKS)
