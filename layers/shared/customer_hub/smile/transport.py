"""The HTTP side of the Smile.io client (`customer_hub.smile.client.SmileClient` adds the
endpoints): bearer key, timeouts, the shared limiter's slot, retries, both paginations.

Retries (429, 5xx, timeouts, connection failures) use exponential backoff with full jitter,
bounded by `RetryPolicy.max_attempts` and `RetryPolicy.max_seconds`. A purchase is retried only
when Smile cannot have processed it (429, 503 or a failed connection): Smile has no idempotency
key, so a retried purchase after a 500/502/504, a reset or a read timeout could spend the points
twice. Such a failure is raised at once with `maybe_acted = True` (the caller reconciles).
The key is sent only in the Authorization header; it is never logged, and it is redacted from
any error body. httpx is imported when the first client is built, not with this module: most
functions that import the sync or connection code never call Smile on a given invocation.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel, ValidationError

from customer_hub.infra import observability
from customer_hub.infra.config import config
from customer_hub.smile.errors import (
    SmileError,
    SmileInvalidResponse,
    SmileUnavailable,
    error_for,
    redact,
)
from customer_hub.smile.models import (
    Page,
)
from customer_hub.smile.ratelimit import (
    SMILE_REQUESTS_PER_SECOND,
    WINDOW_MARGIN_SECONDS,
    Priority,
    RateLimiter,
    SharedRateLimiter,
    limiter_for,
)
from customer_hub.smile.slots import LateForSlot, SlotGate

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("customer_hub.smile")

MAX_PAGE_SIZE = 250
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REFUSED_STATUSES = frozenset({429, 503})  # Smile did nothing (API.md "Uncertain outcomes")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 4.0
    max_seconds: float = 20.0  # total time one call may spend, waits included

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2^attempt)], or Retry-After."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.0
    read: float = 10.0

    def httpx(self) -> httpx.Timeout:
        import httpx

        return httpx.Timeout(self.read, connect=self.connect)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per container, shared by every Smile client (thread-safe): building
    one loads the CA bundle, 36 ms of CPU, and every redemption and refreshing read makes a
    client."""
    import httpx

    return httpx.create_ssl_context()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _json(response: httpx.Response, path: str) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise SmileInvalidResponse(
            "Smile.io answered with something other than JSON",
            status=response.status_code,
            path=path,
        ) from exc


def _parse[T: BaseModel](model: type[T], data: Any, path: str) -> T:
    """One object Smile must have sent in this shape."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SmileInvalidResponse(
            f"Smile.io sent an unexpected {model.__name__}: {exc.error_count()} problem(s)",
            path=path,
        ) from exc


def _parse_items[T: BaseModel](model: type[T], items: Any, path: str) -> list[T]:
    """List items in this shape; one malformed item is logged and skipped, not fatal."""
    parsed: list[T] = []
    for item in items if isinstance(items, list) else []:
        try:
            parsed.append(model.model_validate(item))
        except ValidationError as exc:
            item_id = item.get("id") if isinstance(item, dict) else None
            log.warning(
                "smile item skipped",
                extra={"path": path, "id": item_id, "problems": exc.error_count()},
            )
    return parsed


def _unreached(exc: httpx.TransportError, path: str) -> tuple[SmileError, bool]:
    """A request that got no answer: (the failure, whether Smile cannot have acted on it —
    nothing was sent, or the connection was never made)."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        safe = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
        failure = SmileUnavailable(f"Smile.io timed out ({type(exc).__name__})", path=path)
    else:
        safe = isinstance(exc, httpx.ConnectError)
        failure = SmileUnavailable(
            f"Smile.io could not be reached ({type(exc).__name__})", path=path
        )
    failure.maybe_acted = not safe
    return failure, safe


def _cursor(metadata: Any) -> str | None:
    """`""` and `null` both mean "no more pages"."""
    if not isinstance(metadata, dict):
        return None
    value = metadata.get("next_cursor")
    return value if isinstance(value, str) and value else None


class SmileTransport:
    """The HTTP side of one merchant's Smile.io client: key, timeouts, the limiter's slot,
    retries and pagination. Thread-safe; counts the requests it sends."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        rate_per_second: int = SMILE_REQUESTS_PER_SECOND,
        limiter: RateLimiter | SharedRateLimiter | None = None,
        priority: Priority = "interactive",
        wait_budget: float | None = None,
        transport: httpx.BaseTransport | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ValueError("a Smile API key is required")
        self._key = api_key
        self.base_url = (base_url or config().smile_api_base_url).rstrip("/")
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or limiter_for(api_key, rate_per_second, 1.0 + WINDOW_MARGIN_SECONDS)
        self._slots = SlotGate(self.limiter, wait_budget)
        self._sleep = sleep
        # The limiter's priority of this client's reads; a POST (a purchase, a points
        # transaction: a redemption or its compensation) always goes first ("urgent").
        self.priority: Priority = priority
        import httpx

        hooks = {k: list(v) for k, v in (event_hooks or {}).items()}
        # The limiter's last word, after every other hook: a stale grant is not used.
        hooks.setdefault("request", []).append(self._slots.check)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=(timeouts or Timeouts()).httpx(),
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "User-Agent": "customer-hub",
            },
            transport=transport,
            event_hooks=hooks,
            verify=_tls_context(),
        )

    def __repr__(self) -> str:
        return f"SmileClient(base_url={self.base_url!r})"

    @property
    def key_id(self) -> str:
        """A short digest naming the key (safe to store and log; the key is not derivable)."""
        return hashlib.sha256(self._key.encode()).hexdigest()[:16]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def requests_made(self) -> int:
        """Requests that went out (a stale grant's request, never sent, is not counted)."""
        return self._slots.requests_made

    # ------------------------------------------------------------------ transport
    def _send(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Any, waited: float
    ) -> tuple[Any, float]:
        """One request on its own slot: (the response, the call's slot wait so far)."""
        priority = self._slots.priority_of(method, self.priority)
        while True:
            waited = self._slots.wait(priority, waited, path)
            try:
                response = self._http.request(
                    method,
                    path,
                    params={k: v for k, v in (params or {}).items() if v is not None},
                    json=body,
                    extensions={"trace": self._slots.trace},
                )
            except LateForSlot:
                continue  # nothing left: the grant went stale on the way, book another slot
            return response, waited

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        retry_unsafe: bool = True,
    ) -> Any:
        """`_request`, traced (X-Ray subsegment) and counted by outcome (`SmileRequests`)."""
        with observability.traced("## smile.io", method=method):
            try:
                answer = self._request(
                    method, path, params=params, body=body, retry_unsafe=retry_unsafe
                )
            except SmileError as exc:
                failed = isinstance(exc, SmileUnavailable | SmileInvalidResponse)
                observability.count("SmileRequests", Outcome="failed" if failed else "client_error")
                raise
        observability.count("SmileRequests", Outcome="ok")
        return answer

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        retry_unsafe: bool = True,
    ) -> Any:
        """One call with retries; returns the decoded JSON body (None when empty).

        `retry_unsafe=False` retries only failures Smile cannot have acted on (429, connect);
        a failure after which Smile may have acted carries `maybe_acted = True`.
        """
        import httpx

        started = time.monotonic()
        attempt = 0
        waited = 0.0  # for slots, over the attempts: bounded by the priority's wait budget
        while True:
            retry_after: float | None = None
            try:
                response, waited = self._send(method, path, params, body, waited)
            except httpx.TransportError as exc:
                failure, safe = _unreached(exc, path)
            else:
                if response.status_code < 400:
                    try:
                        return _json(response, path)
                    except SmileError as exc:
                        exc.maybe_acted = True  # a 2xx: Smile did act, the body is unusable
                        raise
                failure = error_for(response.status_code, redact(response.text, self._key), path)
                if response.status_code not in _RETRY_STATUSES:
                    raise failure
                safe = response.status_code == 429
                # 429 and 503 are refusals before any work; 500/502/504 may come after it.
                failure.maybe_acted = response.status_code not in _REFUSED_STATUSES
                retry_after = _retry_after(response)
            attempt += 1
            delay = self.retry.delay(attempt, retry_after)
            out_of_time = time.monotonic() - started + delay > self.retry.max_seconds
            if attempt >= self.retry.max_attempts or out_of_time or not (safe or retry_unsafe):
                log.warning(
                    "smile request failed",
                    extra={"path": path, "status": failure.status, "attempts": attempt},
                )
                raise failure
            log.info(
                "smile request retried",
                extra={"path": path, "status": failure.status, "attempt": attempt},
            )
            self._sleep(delay)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    # ------------------------------------------------------------------ pagination
    def _page[T: BaseModel](
        self, path: str, envelope: str, model: type[T], params: Mapping[str, Any]
    ) -> Page[T]:
        data = self.get(path, **params) or {}
        items = _parse_items(model, data.get(envelope), path)
        return Page[T](items=items, next_cursor=_cursor(data.get("metadata")))

    def _iter[T: BaseModel](
        self, path: str, envelope: str, model: type[T], params: Mapping[str, Any]
    ) -> Iterator[T]:
        params = {"limit": MAX_PAGE_SIZE, **params}
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = self._page(path, envelope, model, {**params, "cursor": cursor})
            yield from page.items
            if page.next_cursor is None or page.next_cursor in seen:
                return
            seen.add(page.next_cursor)
            cursor = page.next_cursor
