"""API fuzzing: Schemathesis generates requests from the project's OpenAPI document and sends
them to a running `hub dev`, as the demo merchant and as a demo shopper.

No response may be a 5xx, and every response must conform to the document (status code,
content type, schema).
"""

from __future__ import annotations

import os
import random
import socket
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
    if "/credentials/" in case.path and case.path_parameters:
        # Rotating the demo API key would lock the fuzzer out after its 10-minute overlap.
        case.path_parameters["name"] = "customer_token_secret"
    if case.method.upper() == "POST" and "/redeem" in case.path:
        headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
    figures["fuzz cases"] += 1
    response = case.call(base_url=demo["url"], headers=headers, timeout=30)
    figures[f"fuzz {response.status_code // 100}xx"] += 1
    case.validate_response(response, checks=CHECKS)


# ---------------------------------------------------------------- raw bytes over real HTTP
RAW_HTTP_CASES = int(os.environ.get("RAW_HTTP_FUZZ_CASES", "300"))
_PATHS = [
    "/v1/shops/{m}/hub/loyalty",
    "/v1/shops/{m}/hub/rewards/11/redeem",
    "/v1/shops/{m}/hub/events",
    "/v1/webhooks/shopify/{m}",
    "/v1/admin/settings",
    "/v1/dashboard/revenue-report",
    "/v1/admin/credentials/{m}/rotate",
]


def _raw_exchange(url: str, request: bytes) -> int:
    """Send bytes as they are (no client library cleans them); → the answer's status code."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_raw_bytes_in_path_query_and_headers_over_http_never_get_a_5xx(
    demo: dict[str, Any], figures: Counter[str]
) -> None:
    """Bytes no HTTP client library would send — invalid UTF-8, bad percent-encoding, control
    characters — in the path, the query and header values, as `hub dev` receives them."""
    merchant = demo["demo"]
    token = _shopper_token(demo)
    rng = random.Random(14)
    statuses: Counter[int] = Counter()

    def junk(most: int) -> bytes:
        pool = [
            b"%",
            b"%ff",
            b"%zz",
            b"%00",
            b"\xff",
            b"\xc3(",
            b"\x00",
            b"\t",
            b"/",
            b"..",
            b"?",
            b"#",
            b"&",
            b"=",
            b"\xe2\x82",
            b"m_0123456789abcdef",
            b"\x7f",
            b";",
        ]
        parts = [
            rng.choice(pool) if rng.random() < 0.5 else bytes([rng.randrange(33, 256)])
            for _ in range(rng.randrange(0, most))
        ]
        return b"".join(parts)

    for n in range(RAW_HTTP_CASES):
        path = rng.choice(_PATHS)
        merchant_id = merchant["merchant_id"].encode() if n % 3 else junk(12)
        target = path.encode().replace(b"{m}", merchant_id or b"x")
        if n % 2:
            target += b"?" + junk(20)
        headers = [b"Host: 127.0.0.1"]
        auth = merchant["api_key"] if "/admin/" in path or "/dashboard/" in path else token
        headers.append(b"Authorization: Bearer " + (auth.encode() if n % 4 else junk(30)))
        for name in rng.sample(
            [
                b"Content-Type",
                b"Accept-Language",
                b"Origin",
                b"Idempotency-Key",
                b"X-Shopify-Topic",
                b"Cookie",
            ],
            2,
        ):
            headers.append(name + b": " + junk(25).replace(b"\r", b"").replace(b"\n", b""))
        body = junk(200) if n % 5 else b'{"events": []}'
        method = b"GET" if path.endswith(("loyalty", "settings", "report")) and n % 2 else b"POST"
        request = (
            method
            + b" "
            + target.replace(b" ", b"%20")
            + b" HTTP/1.1\r\n"
            + b"\r\n".join(headers)
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        status = _raw_exchange(demo["url"], request)
        statuses[status] += 1
        assert status < 500, (status, request[:300])
    figures["fuzz raw bytes over HTTP (hub dev) cases"] += sum(statuses.values())
    for status, n in sorted(statuses.items()):
        figures[f"fuzz raw bytes over HTTP {status // 100}xx"] += n
