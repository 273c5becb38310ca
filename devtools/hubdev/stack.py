"""The embedded local stack: moto, the template's resources, functions, routes and pumps."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import boto3

from hubdev import aws, events
from hubdev.lambdas import Runtime
from hubdev.pumps import QueuePump, StreamPump
from hubdev.template import HttpRoute, Template

log = logging.getLogger("hubdev.stack")


class LocalStack:
    """Everything `hub dev` runs, usable in process by tests as well."""

    def __init__(self, template: Template | None = None, moto_port: int = 0) -> None:
        self.template = template or Template()
        self.moto, self.endpoint = aws.start_moto(moto_port)
        self.resources = aws.create_resources(self.template, self.endpoint)
        self.environment = aws.function_environment(self.template, self.resources)
        aws.apply_environment(self.endpoint, self.environment)
        self.runtime = Runtime(self.template.functions)
        self.routes: list[HttpRoute] = self.template.http_routes
        self.authorizers = self.template.authorizers
        session = boto3.session.Session()
        self.sqs = session.client("sqs", endpoint_url=self.endpoint)
        streams = session.client("dynamodbstreams", endpoint_url=self.endpoint)
        self.stream_pumps = [
            StreamPump(source, self.resources, self.runtime, streams, self.sqs)
            for source in self.template.stream_sources
        ]
        self.queue_pumps = [
            QueuePump(source, self.resources, self.runtime, self.sqs)
            for source in self.template.queue_sources
        ]
        self._pump_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.on_stop: list[Callable[[], None]] = []

    # -------------------------------------------------------------- HTTP routes
    def match(self, method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        for route in self.routes:
            if route.method not in (method.upper(), "ANY"):
                continue
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
        return None

    def handle_http(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes | None,
        source_ip: str = "127.0.0.1",
    ) -> tuple[int, dict[str, str], bytes]:
        """One request through API Gateway's rules: route, authorizer, v2 event, response."""
        matched = self.match(method, path)
        if matched is None:
            return 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
        route, parameters = matched
        event = events.http_event(
            method,
            path,
            route_path=route.path,
            path_parameters=parameters or None,
            query=query,
            headers=headers,
            body=body if body else None,
            source_ip=source_ip,
        )
        if route.authorizer:
            function = self.authorizers[route.authorizer]
            try:
                decision = self.runtime.invoke(function, events.authorizer_event(event))
            except Exception:
                log.exception("authorizer %s failed", function)
                return (
                    500,
                    {"content-type": "application/json"},
                    b'{"message":"Internal Server Error"}',
                )
            if not decision.get("isAuthorized"):
                return 403, {"content-type": "application/json"}, b'{"message":"Forbidden"}'
            event["requestContext"]["authorizer"] = {"lambda": decision.get("context") or {}}
        try:
            response = self.runtime.invoke(route.function, event)
        except Exception:
            log.exception("%s raised", route.function)
            return 500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
        return http_response(response)

    # -------------------------------------------------------------- pumps
    def pump_once(self) -> int:
        with self._pump_lock:
            count = 0
            pumps: list[StreamPump | QueuePump] = [*self.stream_pumps, *self.queue_pumps]
            for pump in pumps:
                try:
                    count += pump.pump()
                except Exception:
                    log.exception("event source of %s failed", pump.source.function)
            return count

    def drain(self, max_rounds: int = 10_000) -> int:
        """Run every pending stream record and queued job to completion."""
        total = 0
        for _ in range(max_rounds):
            processed = self.pump_once()
            total += processed
            if processed == 0:
                return total
        return total

    def fire_schedule(self, name: str) -> Any:
        logical_id = self.runtime.find(name)
        if logical_id is None:
            raise KeyError(name)
        return self.runtime.invoke(logical_id, events.scheduled_event(f"local-{logical_id}"))

    def start_background(self, pump_interval: float = 0.25) -> None:
        """Poll event sources and fire schedules at their rate until stop()."""

        def pumping() -> None:
            while not self._stop.wait(pump_interval):
                self.pump_once()

        def scheduling(function: str, seconds: float) -> None:
            while not self._stop.wait(seconds):
                try:
                    self.fire_schedule(function)
                except Exception:
                    log.exception("scheduled %s failed", function)

        self._threads.append(threading.Thread(target=pumping, name="pumps", daemon=True))
        for schedule in self.template.schedules:
            self._threads.append(
                threading.Thread(
                    target=scheduling,
                    args=(schedule.function, schedule.seconds),
                    name=f"schedule-{schedule.function}",
                    daemon=True,
                )
            )
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        for callback in self.on_stop:
            callback()
        self.moto.stop()


def http_response(response: Any) -> tuple[int, dict[str, str], bytes]:
    """Lambda's payload 2.0 response rules: a dict with statusCode, or any JSON value."""
    import base64
    import json

    if not isinstance(response, dict) or "statusCode" not in response:
        return 200, {"content-type": "application/json"}, json.dumps(response).encode()
    headers = {k.lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ", ".join(str(v) for v in values)
    cookies = response.get("cookies") or []
    if cookies:
        headers["set-cookie"] = cookies[0]
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode()
    return int(response["statusCode"]), headers, raw
