"""Test clients: in process through the local stack's API Gateway emulation, or over HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from hubdev.stack import LocalStack


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class InProcessApi:
    """Sends requests through template routing, the authorizer and the real handlers."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        api_key: str | None = None,
        token: str | None = None,
    ) -> Reply:
        all_headers = {k.lower(): v for k, v in (headers or {}).items()}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers.setdefault("content-type", "application/json")
        if api_key or token:
            all_headers["authorization"] = f"Bearer {api_key or token}"
        status, response_headers, payload = self.stack.handle_http(
            method, path, urlencode(query or {}, doseq=True), all_headers, body
        )
        return Reply(status, response_headers, payload)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Reply:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Reply:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)


def assert_problem(reply: Reply, status: int, slug: str) -> dict[str, Any]:
    """The reply is an RFC 9457 problem of this status and type."""
    assert reply.status == status, (reply.status, reply.body[:500])
    assert reply.content_type.startswith("application/problem+json"), reply.headers
    body = reply.json
    assert body["type"] == f"https://customer-hub.dev/problems/{slug}", body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return dict(body)
