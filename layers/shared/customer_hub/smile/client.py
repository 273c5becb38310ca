"""The Smile.io REST client: bearer key, timeouts, rate limit, retries, both paginations.

    with SmileClient(api_key) as smile:
        settings = smile.get_points_settings()
        for customer in smile.iter_customers(updated_at_min="2026-11-23T10:00:00Z"):
            ...

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

import hashlib
import logging
import random
import threading
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
    SmileNotFound,
    SmileUnavailable,
    error_for,
    redact,
)
from customer_hub.smile.models import (
    Customer,
    EarningRule,
    Page,
    PointsProduct,
    PointsPurchase,
    PointsSettings,
    RewardFulfillment,
    VipSettings,
    VipTier,
)
from customer_hub.smile.ratelimit import (
    SMILE_REQUESTS_PER_SECOND,
    WINDOW_MARGIN_SECONDS,
    Priority,
    RateLimiter,
    SharedRateLimiter,
    limiter_for,
)

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


def _cursor(metadata: Any) -> str | None:
    """`""` and `null` both mean "no more pages"."""
    if not isinstance(metadata, dict):
        return None
    value = metadata.get("next_cursor")
    return value if isinstance(value, str) and value else None


class _LateForSlot(Exception):
    """Raised by the request hook before anything is sent: the limiter's grant went stale."""


class SmileClient:
    """One merchant's Smile.io account. Thread-safe; counts the requests it sends."""

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
        self._sleep = sleep
        # The limiter's priority of this client's reads; a POST (a purchase, a points
        # transaction: a redemption or its compensation) always goes first ("urgent").
        self.priority: Priority = priority
        self.requests_made = 0
        self._count_lock = threading.Lock()
        import httpx

        hooks = {k: list(v) for k, v in (event_hooks or {}).items()}
        # The limiter's last word, after every other hook: a stale grant is not used.
        hooks.setdefault("request", []).append(self._check_slot)
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

    # ------------------------------------------------------------------ transport
    def _check_slot(self, _request: httpx.Request) -> None:
        if not self.limiter.on_time():
            raise _LateForSlot
        with self._count_lock:
            self.requests_made += 1

    def _trace(self, event: str, _info: Any) -> None:
        """httpcore's trace: tells the limiter when the request's headers were written."""
        if event == "http11.send_request_headers.complete":
            self.limiter.sent(time.time())

    def _send(self, method: str, path: str, params: Mapping[str, Any] | None, body: Any) -> Any:
        while True:
            self.limiter.acquire("urgent" if method == "POST" else self.priority)
            try:
                response = self._http.request(
                    method,
                    path,
                    params={k: v for k, v in (params or {}).items() if v is not None},
                    json=body,
                    extensions={"trace": self._trace},
                )
            except _LateForSlot:
                continue  # nothing left: the grant went stale on the way, book another slot
            return response

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
        while True:
            retry_after: float | None = None
            try:
                response = self._send(method, path, params, body)
            except httpx.TimeoutException as exc:
                safe = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
                failure: SmileError = SmileUnavailable(
                    f"Smile.io timed out ({type(exc).__name__})", path=path
                )
                failure.maybe_acted = not safe
            except httpx.TransportError as exc:
                safe = isinstance(exc, httpx.ConnectError)
                failure = SmileUnavailable(
                    f"Smile.io could not be reached ({type(exc).__name__})", path=path
                )
                failure.maybe_acted = not safe
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

    # ------------------------------------------------------------------ program
    def get_points_settings(self) -> PointsSettings:
        data = self.get("/points_settings") or {}
        return _parse(PointsSettings, data.get("points_settings"), "/points_settings")

    def verify(self) -> PointsSettings:
        """The cheapest authenticated call: raises SmileUnauthorized for a rejected key."""
        return self.get_points_settings()

    def list_points_products(
        self, *, exchange_type: str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> list[PointsProduct]:
        """Page-number pagination: the last page is the one shorter than `page_size`."""
        products: list[PointsProduct] = []
        page = 1
        while True:
            data = self.get(
                "/points_products", exchange_type=exchange_type, page=page, page_size=page_size
            )
            items = (data or {}).get("points_products") or []
            products += _parse_items(PointsProduct, items, "/points_products")
            if len(items) < page_size:
                return products
            page += 1

    def list_earning_rules(self) -> list[EarningRule]:
        return list(self._iter("/earning_rules", "earning_rules", EarningRule, {}))

    def list_vip_tiers(self) -> list[VipTier]:
        data = self.get("/vip_tiers") or {}
        return _parse_items(VipTier, data.get("vip_tiers"), "/vip_tiers")

    def get_referral_settings(self) -> dict[str, Any] | None:
        """Referral program settings (absent from the public OpenAPI profile); None if unknown."""
        try:
            data = self.get("/referral_settings") or {}
        except SmileNotFound:
            return None
        settings = data.get("referral_settings")
        return settings if isinstance(settings, dict) else None

    def get_vip_settings(self) -> VipSettings | None:
        """Whether tier milestones are points earned or amount spent; None when Smile has no VIP
        settings for the account (no VIP program, or an account without this resource)."""
        try:
            data = self.get("/vip_settings") or {}
        except SmileNotFound:
            return None
        settings = data.get("vip_settings")
        return VipSettings.model_validate(settings) if isinstance(settings, dict) else None

    # ------------------------------------------------------------------ customers
    def customers_page(
        self,
        *,
        cursor: str | None = None,
        updated_at_min: str | None = None,
        email: str | None = None,
        state: str | None = None,
        limit: int = MAX_PAGE_SIZE,
        include_vip_status: bool = True,
    ) -> Page[Customer]:
        return self._page(
            "/customers",
            "customers",
            Customer,
            {
                "cursor": cursor,
                "updated_at_min": updated_at_min,
                "email": email,
                "state": state,
                "limit": limit,
                "include": "vip_status" if include_vip_status else None,
            },
        )

    def iter_customers(self, **filters: Any) -> Iterator[Customer]:
        filters.setdefault("include", "vip_status")
        filters.setdefault("limit", MAX_PAGE_SIZE)
        return self._iter("/customers", "customers", Customer, filters)

    def get_customer(self, customer_id: int, *, include_vip_status: bool = True) -> Customer:
        data = self.get(
            f"/customers/{int(customer_id)}",
            include="vip_status" if include_vip_status else None,
        )
        return _parse(Customer, (data or {}).get("customer"), "/customers/{id}")

    def find_customers_by_email(self, email: str) -> list[Customer]:
        """Every Smile customer with this email (emails are not unique in Smile)."""
        wanted = email.strip().lower()
        found = self.iter_customers(email=email.strip())
        return [c for c in found if (c.email or "").strip().lower() == wanted]

    # ------------------------------------------------------------------ rewards
    def purchase(
        self, points_product_id: int, customer_id: int, points_to_spend: int | None = None
    ) -> PointsPurchase:
        """Spend points on a points product (201). Never retried once Smile may have acted."""
        body: dict[str, Any] = {"customer_id": int(customer_id)}
        if points_to_spend is not None:
            body["points_to_spend"] = int(points_to_spend)
        data = self.request(
            "POST",
            f"/points_products/{int(points_product_id)}/purchase",
            body=body,
            retry_unsafe=False,
        )
        try:
            return _parse(PointsPurchase, (data or {}).get("points_purchase"), "/purchase")
        except SmileError as exc:
            exc.maybe_acted = True  # Smile answered 2xx: it did act, its answer is unusable
            raise

    def create_points_transaction(
        self,
        customer_id: int,
        points_change: int,
        description: str,
        *,
        internal_note: str | None = None,
    ) -> dict[str, Any]:
        """Add (positive) or deduct (negative) points, e.g. to compensate a mistaken purchase.

        Like a purchase it has no idempotency key, so it is retried only when Smile cannot have
        acted. Returns Smile's `points_transaction` object.
        """
        transaction: dict[str, Any] = {
            "customer_id": int(customer_id),
            "points_change": int(points_change),
            "description": description,
        }
        if internal_note is not None:
            transaction["internal_note"] = internal_note
        data = self.request(
            "POST",
            "/points_transactions",
            body={"points_transaction": transaction},
            retry_unsafe=False,
        )
        created = (data or {}).get("points_transaction")
        if not isinstance(created, dict):
            raise SmileInvalidResponse(
                "Smile.io sent no points_transaction", path="/points_transactions"
            )
        return created

    def fulfillments_page(
        self,
        *,
        cursor: str | None = None,
        customer_id: int | None = None,
        updated_at_min: str | None = None,
        fulfillment_status: str | None = None,
        usage_status: str | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> Page[RewardFulfillment]:
        return self._page(
            "/reward_fulfillments",
            "reward_fulfillments",
            RewardFulfillment,
            {
                "cursor": cursor,
                "customer_id": customer_id,
                "updated_at_min": updated_at_min,
                "fulfillment_status": fulfillment_status,
                "usage_status": usage_status,
                "limit": limit,
            },
        )

    def list_reward_fulfillments(
        self, customer_id: int, *, updated_at_min: str | None = None
    ) -> list[RewardFulfillment]:
        return list(
            self._iter(
                "/reward_fulfillments",
                "reward_fulfillments",
                RewardFulfillment,
                {
                    "customer_id": int(customer_id),
                    "updated_at_min": updated_at_min,
                    "limit": MAX_PAGE_SIZE,
                },
            )
        )

    def get_reward_fulfillment(
        self, fulfillment_id: int, customer_id: int, *, updated_at_min: str | None = None
    ) -> RewardFulfillment | None:
        """One fulfillment. Smile has no GET /reward_fulfillments/{id}: list the customer's."""
        for page_item in self._iter(
            "/reward_fulfillments",
            "reward_fulfillments",
            RewardFulfillment,
            {
                "customer_id": int(customer_id),
                "updated_at_min": updated_at_min,
                "limit": MAX_PAGE_SIZE,
            },
        ):
            if page_item.id == fulfillment_id:
                return page_item
        return None

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
