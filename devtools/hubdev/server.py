"""The local HTTP front door: API Gateway routes from the template plus the `/_local` routes."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from customer_hub.merchants.profiles import NewMerchant, create_merchant
from customer_hub.problems import PROBLEM_BASE, PROBLEM_CONTENT_TYPE
from hubdev.stack import LocalStack

log = logging.getLogger("hubdev.server")

Reply = tuple[int, dict[str, str], bytes]
LocalRoute = Callable[[re.Match[str], bytes, dict[str, str]], Reply]


def json_reply(status: int, body: Any) -> Reply:
    return status, {"content-type": "application/json"}, json.dumps(body).encode()


def problem_reply(status: int, slug: str, title: str, detail: str, **extra: Any) -> Reply:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    body.update(extra)
    return status, {"content-type": PROBLEM_CONTENT_TYPE}, json.dumps(body).encode()


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: dozens of storefront clients connecting at
    # once (the load benchmark's 50 shoppers) had connections reset before they were accepted.
    request_queue_size = 128

    def __init__(self, stack: LocalStack, host: str, port: int) -> None:
        self.stack = stack
        self.local_routes: list[tuple[str, re.Pattern[str], LocalRoute]] = []
        super().__init__((host, port), _Handler)
        self.add_route("POST", r"/_local/drain", self._drain)
        self.add_route("POST", r"/_local/schedules/(?P<function>[\w-]+)", self._schedule)
        self.add_route("POST", r"/_local/merchants", self._merchants)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_route(self, method: str, pattern: str, route: LocalRoute) -> None:
        """Register a local-only route (never deployed), matched before the API's routes."""
        self.local_routes.append((method, re.compile(f"^{pattern}$"), route))

    def _drain(self, _match: re.Match[str], _body: bytes, _headers: dict[str, str]) -> Reply:
        return json_reply(200, {"processed": self.stack.drain()})

    def _schedule(self, match: re.Match[str], _body: bytes, _headers: dict[str, str]) -> Reply:
        name = match.group("function")
        try:
            result = self.stack.fire_schedule(name)
        except KeyError:
            return problem_reply(404, "not-found", "Not found", f"No function named {name!r}.")
        return json_reply(200, {"function": name, "result": result})

    def _merchants(self, _match: re.Match[str], body: bytes, _headers: dict[str, str]) -> Reply:
        try:
            new = NewMerchant.model_validate_json(body or b"{}")
        except ValidationError as exc:
            errors = [
                {"loc": ["body", *map(str, e["loc"])], "msg": e["msg"]}
                for e in exc.errors(include_url=False)
            ]
            detail = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors)
            return problem_reply(422, "validation", "Invalid request", detail, errors=errors)
        return json_reply(201, create_merchant(new).model_dump())


class _Handler(BaseHTTPRequestHandler):
    server: LocalServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply: Reply | None = None
        for method, pattern, route in self.server.local_routes:
            match = pattern.match(parts.path)
            if match and method in (self.command, "ANY"):
                try:
                    reply = route(match, body, headers)
                except Exception:
                    log.exception("local route %s failed", parts.path)
                    reply = json_reply(500, {"message": "Internal Server Error"})
                break
        if reply is None:
            reply = self.server.stack.handle_http(
                self.command, parts.path, parts.query, headers, body, self.client_address[0]
            )
        status, response_headers, payload = reply
        self.send_response(status)
        for name, value in response_headers.items():
            if name not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def __getattr__(self, name: str) -> Any:
        # Any method (TRACE, PROPFIND, ...) goes to routing, as API Gateway takes any verb.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)
