"""A local Smile.io stand-in: an HTTP server on 127.0.0.1 with Smile's shapes and quirks.

Quirks kept: 10 requests per second per API key (429 above it, no Retry-After), cursors that
are `""` at the end, lists sorted by id descending, page numbers for points products, the
unwrapped purchase body answered with 201, 422 when points do not cover a purchase, reward
fulfillments that start `pending` (no code) and are `issued` with a code on a read at least
`issue_after` seconds later, and `updated_at` bumped on every change (`updated_at_min` filters).

Fault injection per key or for every key (`Faults`: random 429/503, forced statuses, slow
answers, down, answers lost after Smile acted), also over HTTP at `POST /_control/faults`.
Every request is logged with its arrival time and key (`requests()`,
`GET /_control/requests`) so tests can assert the rate.

    standin = SmileStandIn().start()
    account = standin.add_account("sk_test", customers=650)
    ... SmileClient("sk_test", base_url=standin.url) ...
    standin.stop()
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import io
import json
import random
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hubdev import smile_demo

RATE_LIMIT = 10
ISSUE_AFTER_SECONDS = 0.2


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class SmileHttpError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = _error(code, message)


@dataclass
class Faults:
    """What goes wrong. `error_rate` draws from `statuses`; `fail_next` forces the next ones."""

    error_rate: float = 0.0
    statuses: tuple[int, ...] = (429, 503)
    slow_seconds: float = 0.0
    slow_rate: float = 1.0  # the share of requests `slow_seconds` applies to
    down: bool = False
    fail_next: list[int] = field(default_factory=list)
    # Smile acts on the next requests, then their answers are lost: each entry is the status
    # sent instead of the real answer (500/502/504), or 0 to drop the connection.
    lose_next: list[int] = field(default_factory=list)
    paths: tuple[str, ...] = ()  # only requests whose path starts with one of these

    def applies(self, path: str) -> bool:
        return not self.paths or path.startswith(self.paths)

    def update(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            if name not in self.__dataclass_fields__:
                raise ValueError(f"unknown fault {name!r}")
            if name in ("statuses", "paths"):
                value = tuple(value)
            setattr(self, name, value)


@dataclass
class LoggedRequest:
    at: float  # time.monotonic() on arrival: when its first packet reached the socket (Linux)
    account: str  # the account's name ("?" for an unknown key), never the key
    method: str
    path: str
    query: dict[str, str]
    status: int
    body: Any = None
    response: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    queued: float = 0.0  # seconds from arrival until a stand-in thread handled it


class Clock:
    """Strictly increasing `updated_at` values (two changes never share a millisecond)."""

    def __init__(self) -> None:
        self._last = datetime.now(UTC) - timedelta(days=365)
        self._lock = threading.Lock()

    def tick(self) -> str:
        with self._lock:
            now = datetime.now(UTC)
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            self._last = max(now, self._last + timedelta(milliseconds=1))
            return _iso(self._last)


class Account:
    """One Smile account (one API key): its program, customers and reward fulfillments."""

    def __init__(self, name: str, clock: Clock, issue_after: float) -> None:
        self.name = name
        self.clock = clock
        self.issue_after = issue_after
        self.lock = threading.RLock()
        self.faults = Faults()
        self.points_label = dict(smile_demo.POINTS_LABEL)
        self.points_products: list[dict[str, Any]] = []
        self.earning_rules: list[dict[str, Any]] = []
        self.vip_tiers: list[dict[str, Any]] = []
        self.referral_settings: dict[str, Any] | None = None
        self.vip_settings: dict[str, Any] | None = None
        self.customers: dict[int, dict[str, Any]] = {}
        self.fulfillments: dict[int, dict[str, Any]] = {}
        self._pending: dict[int, float] = {}  # fulfillment id → monotonic time it may issue
        self._progress: dict[int, float] = {}
        self._next_customer_id = smile_demo.FIRST_CUSTOMER_ID
        self._next_fulfillment_id = 625_478_000
        self._next_purchase_id = 665_523_000
        self._next_transaction_id = 825_673_000

    # -------------------------------------------------------------- seeding and changes
    def load_demo_program(self) -> None:
        with self.lock:
            self.points_products = smile_demo.points_products()
            self.earning_rules = smile_demo.earning_rules()
            self.vip_tiers = smile_demo.vip_tiers()
            self.referral_settings = smile_demo.referral_settings()
            self.vip_settings = smile_demo.vip_settings()
            stamp = _iso(datetime.now(UTC) - timedelta(days=90))
            for product in self.points_products:
                product["created_at"] = product["updated_at"] = stamp

    def add_customer(
        self,
        email: str,
        *,
        state: str = "member",
        points_balance: int = 0,
        progress: float | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        updated_at: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            customer_id = self._next_customer_id
            self._next_customer_id += 1
            stamp = updated_at or self.clock.tick()
            digest = hashlib.sha256(f"{self.name}:{customer_id}".encode()).hexdigest()
            customer = {
                "id": customer_id,
                "first_name": first_name,
                "last_name": last_name,
                "email": email,
                "state": state,
                "date_of_birth": None,
                "points_balance": points_balance,
                "referral_url": f"http://i.refs.cc/{digest[:8]}",
                "vip_tier_id": None,
                "created_at": stamp,
                "updated_at": stamp,
            }
            self.customers[customer_id] = customer
            self._progress[customer_id] = float(points_balance if progress is None else progress)
            customer["vip_tier_id"] = self._vip(customer_id)["vip_tier_id"]
            return customer

    def seed_customers(self, count: int, seed: int = smile_demo.DEMO_SEED) -> None:
        """`count` demo customers with `updated_at` spread over the last 30 days; their coupons
        expire at noon UTC 90 days after the coupon was issued."""
        rng = random.Random(seed)
        start = datetime.now(UTC) - timedelta(days=30)
        demo = smile_demo.demo_customers(count, seed)
        stamps = sorted(start + timedelta(seconds=rng.randrange(0, 29 * 86400)) for _ in demo)
        for person, stamp in zip(demo, stamps, strict=True):
            customer = self.add_customer(
                person.email,
                state=person.state,
                points_balance=person.points_balance,
                progress=person.progress,
                first_name=person.first_name,
                last_name=person.last_name,
                updated_at=_iso(stamp),
            )
            expiry = (stamp + timedelta(days=90)).replace(hour=12, minute=0, second=0)
            for index in range(person.coupons):
                product = (
                    self.points_products[index % max(1, len(self.points_products))]
                    if (self.points_products)
                    else None
                )
                name = product["reward"]["name"] if product else "$5 off"
                self.add_fulfillment(
                    customer["id"],
                    name,
                    issued=True,
                    used=index < person.used_coupons,
                    updated_at=_iso(stamp),
                    expires_at=_iso(expiry),
                )

    def add_fulfillment(
        self,
        customer_id: int,
        name: str,
        *,
        issued: bool = False,
        used: bool = False,
        updated_at: str | None = None,
        expires_at: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            fulfillment_id = self._next_fulfillment_id
            self._next_fulfillment_id += 1
            stamp = updated_at or self.clock.tick()
            fulfillment: dict[str, Any] = {
                "id": fulfillment_id,
                "name": name,
                "customer_id": customer_id,
                "fulfillment_status": "pending",
                "image_url": smile_demo.IMAGE.format(f"fulfillment-{fulfillment_id}"),
                "action_text": "Use it now",
                "action_url": None,
                "usage_instructions": "Use this discount code on your next order!",
                "terms_and_conditions": None,
                "expires_at": expires_at,
                "usage_status": "unused",
                "used_at": None,
                "created_at": stamp,
                "updated_at": stamp,
            }
            self.fulfillments[fulfillment_id] = fulfillment
            if issued:
                self._issue(fulfillment, stamp)
            else:
                self._pending[fulfillment_id] = time.monotonic() + self.issue_after
            if used:
                fulfillment["usage_status"] = "used"
                fulfillment["used_at"] = stamp
            return fulfillment

    def _issue(self, fulfillment: dict[str, Any], stamp: str) -> None:
        digest = hashlib.sha256(f"{self.name}:{fulfillment['id']}".encode()).hexdigest()
        fulfillment["fulfillment_status"] = "issued"
        fulfillment["code"] = f"HUB-{digest[:10].upper()}"
        fulfillment["updated_at"] = stamp

    def settle(self) -> None:
        """Pending fulfillments whose time has come are issued (on the next read)."""
        now = time.monotonic()
        with self.lock:
            for fulfillment_id, due in list(self._pending.items()):
                if due <= now:
                    del self._pending[fulfillment_id]
                    self._issue(self.fulfillments[fulfillment_id], self.clock.tick())

    def issue_pending(self) -> None:
        """Issue every pending fulfillment now, whatever `issue_after` says."""
        with self.lock:
            for fulfillment_id in list(self._pending):
                self._pending[fulfillment_id] = 0.0
        self.settle()

    def update_customer(self, customer_id: int, **changes: Any) -> dict[str, Any]:
        """Change a customer (points_balance, state, email, ...) and bump its updated_at."""
        with self.lock:
            customer = self.customers[customer_id]
            progress = changes.pop("progress", None)
            customer.update(changes)
            if progress is not None:
                self._progress[customer_id] = float(progress)
            customer["vip_tier_id"] = self._vip(customer_id)["vip_tier_id"]
            customer["updated_at"] = self.clock.tick()
            return customer

    def mark_used(self, fulfillment_id: int) -> None:
        with self.lock:
            fulfillment = self.fulfillments[fulfillment_id]
            fulfillment["usage_status"] = "used"
            fulfillment["updated_at"] = fulfillment["used_at"] = self.clock.tick()

    def customer_by_email(self, email: str) -> list[dict[str, Any]]:
        with self.lock:
            wanted = email.lower()
            return [c for c in self.customers.values() if c["email"].lower() == wanted]

    def _vip(self, customer_id: int) -> dict[str, Any]:
        return smile_demo.vip_status(self.vip_tiers, self._progress.get(customer_id, 0.0))

    # -------------------------------------------------------------- API views
    def customer_json(self, customer: dict[str, Any], include: str | None) -> dict[str, Any]:
        shown = dict(customer)
        if include and "vip_status" in include.split(","):
            shown["vip_status"] = self._vip(customer["id"])
        return shown

    def purchase(self, product_id: int, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            product = next((p for p in self.points_products if p["id"] == product_id), None)
            if product is None:
                raise SmileHttpError(404, "not_found", "Points product not found")
            customer_id = body.get("customer_id")
            if not isinstance(customer_id, int) or customer_id not in self.customers:
                raise SmileHttpError(404, "not_found", "Customer not found")
            customer = self.customers[customer_id]
            if customer["state"] == "disabled":
                raise SmileHttpError(422, "customer_disabled", "Customer is excluded")
            cost = self._cost(product, body.get("points_to_spend"))
            if cost > customer["points_balance"]:
                raise SmileHttpError(
                    422, "insufficient_points", "Customer does not have enough points"
                )
            self.update_customer(customer_id, points_balance=customer["points_balance"] - cost)
            name = product["reward"]["name"]
            if product["exchange_type"] == "variable":
                steps = cost // product["variable_points_step"]
                name = f"${steps * product['variable_points_step_reward_value']} off coupon"
            fulfillment = self.add_fulfillment(customer_id, name)
            stamp = fulfillment["created_at"]
            purchase_id = self._next_purchase_id
            self._next_purchase_id += 1
            return {
                "id": purchase_id,
                "customer_id": customer_id,
                "points_product_id": product_id,
                "points_spent": cost,
                "reward_fulfillment": dict(fulfillment),
                "created_at": stamp,
                "updated_at": stamp,
            }

    @staticmethod
    def _cost(product: dict[str, Any], points_to_spend: Any) -> int:
        if product["exchange_type"] == "fixed":
            if points_to_spend is not None:
                raise SmileHttpError(422, "invalid", "points_to_spend applies to variable only")
            return int(product["points_price"])
        if not isinstance(points_to_spend, int):
            raise SmileHttpError(422, "invalid", "points_to_spend is required")
        step = product["variable_points_step"]
        if (
            points_to_spend < product["variable_points_min"]
            or points_to_spend > product["variable_points_max"]
            or points_to_spend % step
        ):
            raise SmileHttpError(422, "invalid", "points_to_spend is not a valid amount")
        return points_to_spend

    def points_transaction(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            tx = body.get("points_transaction")
            if not isinstance(tx, dict):
                raise SmileHttpError(400, "bad_request", "points_transaction is required")
            customer_id, change = tx.get("customer_id"), tx.get("points_change")
            if customer_id not in self.customers or not isinstance(change, int):
                raise SmileHttpError(422, "invalid", "customer_id and points_change required")
            balance = self.customers[customer_id]["points_balance"] + change
            if balance < 0:
                raise SmileHttpError(422, "insufficient_points", "Balance cannot go negative")
            progress = self._progress.get(customer_id, 0.0) + max(change, 0)
            customer = self.update_customer(customer_id, points_balance=balance, progress=progress)
            transaction_id = self._next_transaction_id
            self._next_transaction_id += 1
            return {
                "id": transaction_id,
                "customer_id": customer_id,
                "points_change": change,
                "description": tx.get("description") or "Points adjustment",
                "internal_note": tx.get("internal_note"),
                "created_at": customer["updated_at"],
                "updated_at": customer["updated_at"],
            }


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id},direction:next".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        return int(text.split(",")[0].removeprefix("id:"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SmileHttpError(400, "invalid_cursor", "cursor is invalid") from exc


def _limit(query: dict[str, str], name: str = "limit") -> int:
    try:
        value = int(query.get(name, "50"))
    except ValueError as exc:
        raise SmileHttpError(400, "bad_request", f"{name} must be an integer") from exc
    if not 1 <= value <= 250:
        raise SmileHttpError(400, "bad_request", f"{name} must be between 1 and 250")
    return value


def _since(query: dict[str, str]) -> datetime | None:
    text = query.get("updated_at_min")
    if not text:
        return None
    try:
        return _parse(text)
    except ValueError as exc:
        raise SmileHttpError(400, "bad_request", "updated_at_min must be ISO 8601") from exc


def cursor_page(
    items: Iterable[dict[str, Any]], query: dict[str, str], envelope: str
) -> dict[str, Any]:
    """Smile's cursor list: by id descending, `limit` per page, `""` cursors at the ends."""
    ordered = sorted(items, key=lambda item: item["id"], reverse=True)
    limit = _limit(query)
    cursor = query.get("cursor")
    if cursor:
        before = _decode_cursor(cursor)
        ordered = [item for item in ordered if item["id"] < before]
    page, more = ordered[:limit], len(ordered) > limit
    return {
        envelope: page,
        "metadata": {
            "next_cursor": _encode_cursor(page[-1]["id"]) if more else "",
            "previous_cursor": "",
        },
    }


class SmileStandIn:
    """The server. Thread-safe; `url` is the base URL to give the client (ends in /v1)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        rate_limit: int = RATE_LIMIT,
        issue_after: float = ISSUE_AFTER_SECONDS,
        seed: int = smile_demo.DEMO_SEED,
        record_bodies: bool = False,
    ) -> None:
        self.rate_limit = rate_limit
        self.issue_after = issue_after
        self.record_bodies = record_bodies
        self.clock = Clock()
        self.faults = Faults()
        self._rng = random.Random(seed)
        self._accounts: dict[str, Account] = {}
        self._created = 0
        self._windows: dict[str, list[float]] = {}  # answered arrivals per key, sorted
        self._log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._server = _Server((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- lifecycle
    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/v1"

    def start(self) -> SmileStandIn:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SmileStandIn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -------------------------------------------------------------- accounts
    def add_account(
        self,
        api_key: str,
        *,
        name: str | None = None,
        demo_program: bool = True,
        customers: int = 0,
        seed: int = smile_demo.DEMO_SEED,
    ) -> Account:
        """A Smile account reachable with `api_key`; optionally the demo program and customers."""
        with self._lock:
            self._created += 1
            default_name = f"account-{self._created}"
        account = Account(name or default_name, self.clock, self.issue_after)
        if demo_program:
            account.load_demo_program()
        if customers:
            account.seed_customers(customers, seed)
        with self._lock:
            self._accounts[api_key] = account
        return account

    def revoke(self, api_key: str) -> None:
        """The key stops working (401), as when a merchant rotates it in Smile."""
        with self._lock:
            self._accounts.pop(api_key, None)

    def account(self, api_key: str) -> Account:
        with self._lock:
            return self._accounts[api_key]

    # -------------------------------------------------------------- request log
    def requests(
        self, account: Account | str | None = None, path: str | None = None
    ) -> list[LoggedRequest]:
        name = account.name if isinstance(account, Account) else account
        with self._lock:
            return [
                r
                for r in self._log
                if (name is None or r.account == name) and (path is None or r.path.startswith(path))
            ]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def max_requests_in_window(self, account: Account | str, window: float = 1.0) -> int:
        """The most requests of one key that arrived within any `window` seconds."""
        times = sorted(r.at for r in self.requests(account))
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    # -------------------------------------------------------------- serving
    def _admit(self, api_key: str, arrived: float) -> bool:
        """Whether a request that arrived at `arrived` keeps every 1-second window of the key's
        answered requests within the limit. Requests may be handled out of arrival order (a
        busy machine's threads), so the windows before and after it are both checked."""
        admitted = self._windows.setdefault(api_key, [])
        del admitted[: bisect.bisect_left(admitted, max(admitted[-1:] or [arrived]) - 5.0)]
        near = admitted[
            bisect.bisect_right(admitted, arrived - 1.0) : bisect.bisect_left(
                admitted, arrived + 1.0
            )
        ]
        for start in [t for t in near if t <= arrived] + [arrived]:
            inside = bisect.bisect_left(near, start + 1.0) - bisect.bisect_left(near, start)
            if inside + 1 > self.rate_limit:
                return False
        bisect.insort(admitted, arrived)
        return True

    def _injected(self, account: Account | None, path: str) -> tuple[int | None, float, bool]:
        """(forced status, delay, down) from the account's faults, then the global ones."""
        status: int | None = None
        delay, down = 0.0, False
        for faults in (account.faults if account else None, self.faults):
            if faults is None or not faults.applies(path):
                continue
            down = down or faults.down
            if faults.slow_seconds and (
                faults.slow_rate >= 1.0 or self._rng.random() < faults.slow_rate
            ):
                delay = max(delay, faults.slow_seconds)
            if status is None and faults.fail_next:
                status = faults.fail_next.pop(0)
            if status is None and faults.error_rate and self._rng.random() < faults.error_rate:
                status = self._rng.choice(faults.statuses)
        return status, delay, down

    def _lost_answer(self, account: Account, path: str) -> int | None:
        """The status replacing the answer of a request Smile acted on (0: drop), if any."""
        with self._lock:
            for faults in (account.faults, self.faults):
                if faults.lose_next and faults.applies(path):
                    return faults.lose_next.pop(0)
        return None

    def handle(
        self,
        method: str,
        raw_path: str,
        headers: dict[str, str],
        raw_body: bytes,
        received: float | None = None,
    ) -> tuple[int, Any] | None:
        """One API request → (status, JSON body); None means drop the connection (down).

        `received` (epoch seconds) is when the request reached the socket, as Smile's edge
        would see it; the rate limit and the log count from it, not from when this process
        got round to the request (on a loaded machine, up to hundreds of ms later)."""
        queued = max(0.0, time.time() - received) if received is not None else 0.0
        arrived = time.monotonic() - queued
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        path = parts.path.removeprefix("/v1")
        auth = headers.get("authorization", "")
        api_key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        body: Any = None
        with self._lock:
            account = self._accounts.get(api_key) if api_key else None
            status, delay, down = self._injected(account, path)
            admitted = self._admit(api_key, arrived) if account else True
        try:
            if raw_body:
                body = json.loads(raw_body)
        except ValueError:
            body = raw_body.decode("utf-8", "replace")
        if delay:
            time.sleep(delay)
        if down:
            reply: tuple[int, Any] | None = None
        elif account is None:
            reply = (401, _error("unauthorized", "The API key is missing or invalid"))
        elif not admitted:
            reply = (429, _error("rate_limited", "Too many requests"))
        elif status is not None:
            reply = (status, _error("injected", f"Injected {status}"))
        else:
            try:
                reply = (*self._route(account, method, path, query, headers, body),)
            except SmileHttpError as exc:
                reply = (exc.status, exc.body)
            lost = self._lost_answer(account, path)
            if lost is not None:
                reply = (lost, _error("injected", f"Injected {lost}")) if lost else None
        entry = LoggedRequest(
            at=arrived,
            account=account.name if account else "?",
            method=method,
            path=path,
            query=query,
            status=reply[0] if reply else 0,
            body=body if self.record_bodies else None,
            response=reply[1] if reply and self.record_bodies else None,
            headers={k: v for k, v in headers.items() if k != "authorization"}
            if self.record_bodies
            else {},
            queued=queued,
        )
        with self._lock:
            self._log.append(entry)
        return reply

    def _route(
        self,
        account: Account,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
    ) -> tuple[int, Any]:
        account.settle()
        segments = [s for s in path.split("/") if s]
        if method == "POST" and "json" not in headers.get("content-type", ""):
            raise SmileHttpError(400, "bad_request", "Content-Type must be application/json")
        with account.lock:
            if method == "GET":
                return 200, self._get(account, segments, query)
            if (
                method == "POST"
                and len(segments) == 3
                and segments[0] == "points_products"
                and segments[2] == "purchase"
                and isinstance(body, dict)
            ):
                return 201, {"points_purchase": account.purchase(_int(segments[1]), body)}
            if method == "POST" and segments == ["points_transactions"] and isinstance(body, dict):
                return 201, {"points_transaction": account.points_transaction(body)}
        raise SmileHttpError(404, "not_found", f"No route {method} {path}")

    def _get(self, account: Account, segments: list[str], query: dict[str, str]) -> Any:
        match segments:
            case ["points_settings"]:
                return {"points_settings": {"points_label": dict(account.points_label)}}
            case ["referral_settings"]:
                if account.referral_settings is None:
                    raise SmileHttpError(404, "not_found", "No referral program")
                return {"referral_settings": account.referral_settings}
            case ["vip_settings"]:
                if account.vip_settings is None:
                    raise SmileHttpError(404, "not_found", "No VIP program")
                return {"vip_settings": account.vip_settings}
            case ["points_products"]:
                return {"points_products": self._products(account, query)}
            case ["points_products", product_id]:
                wanted = _int(product_id)
                for product in account.points_products:
                    if product["id"] == wanted:
                        return {"points_product": product}
                raise SmileHttpError(404, "not_found", "Points product not found")
            case ["earning_rules"]:
                return cursor_page(account.earning_rules, query, "earning_rules")
            case ["vip_tiers"]:
                return {"vip_tiers": sorted(account.vip_tiers, key=lambda t: t["milestone"])}
            case ["customers"]:
                return self._customers(account, query)
            case ["customers", customer_id]:
                customer = account.customers.get(_int(customer_id))
                if customer is None:
                    raise SmileHttpError(404, "not_found", "Customer not found")
                return {"customer": account.customer_json(customer, query.get("include"))}
            case ["reward_fulfillments"]:
                return self._fulfillments(account, query)
        raise SmileHttpError(404, "not_found", "Not found")

    @staticmethod
    def _products(account: Account, query: dict[str, str]) -> list[dict[str, Any]]:
        size = _limit(query, "page_size")
        page = max(1, _int(query.get("page", "1")))
        products = sorted(account.points_products, key=lambda p: p["id"], reverse=True)
        if query.get("exchange_type"):
            products = [p for p in products if p["exchange_type"] == query["exchange_type"]]
        return products[(page - 1) * size : page * size]

    @staticmethod
    def _customers(account: Account, query: dict[str, str]) -> dict[str, Any]:
        since = _since(query)
        email = query.get("email", "").lower()
        selected = [
            c
            for c in account.customers.values()
            if (not email or c["email"].lower() == email)
            and (not query.get("state") or c["state"] == query["state"])
            and (since is None or _parse(c["updated_at"]) >= since)
        ]
        page = cursor_page(selected, query, "customers")
        page["customers"] = [
            account.customer_json(c, query.get("include")) for c in page["customers"]
        ]
        return page

    @staticmethod
    def _fulfillments(account: Account, query: dict[str, str]) -> dict[str, Any]:
        since = _since(query)
        customer_id = _int(query["customer_id"]) if query.get("customer_id") else None
        selected = [
            dict(f)
            for f in account.fulfillments.values()
            if (customer_id is None or f["customer_id"] == customer_id)
            and (
                not query.get("fulfillment_status")
                or f["fulfillment_status"] == query["fulfillment_status"]
            )
            and (not query.get("usage_status") or f["usage_status"] == query["usage_status"])
            and (since is None or _parse(f["updated_at"]) >= since)
        ]
        return cursor_page(selected, query, "reward_fulfillments")

    # -------------------------------------------------------------- control endpoint
    def control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """`POST /_control/faults` {"account"?: name, ...Faults}, `GET /_control/requests`."""
        if method == "POST" and path == "/_control/faults" and isinstance(body, dict):
            changes = dict(body)
            name = changes.pop("account", None)
            with self._lock:
                targets = [a.faults for a in self._accounts.values() if a.name == name]
                faults = targets[0] if name else self.faults
                try:
                    faults.update(changes)
                except ValueError as exc:
                    return 422, _error("invalid", str(exc))
            return 200, {"ok": True}
        if method == "POST" and path == "/_control/customers" and isinstance(body, dict):
            return self._control_customers(body)
        if method == "POST" and path == "/_control/reset":
            with self._lock:
                self.faults = Faults()
                for account in self._accounts.values():
                    account.faults = Faults()
                self._log.clear()
            return 200, {"ok": True}
        if method == "GET" and path == "/_control/requests":
            return 200, {
                "requests": [
                    {"at": r.at, "account": r.account, "method": r.method, "path": r.path,
                     "query": r.query, "status": r.status}
                    for r in self.requests()
                ]
            }  # fmt: skip
        return 404, _error("not_found", "No such control route")

    _CHANGEABLE = frozenset({"points_balance", "state", "email", "first_name", "last_name"})

    def _control_customers(self, body: dict[str, Any]) -> tuple[int, Any]:
        """`{"account": name, "email": e, ...changes}`: change every customer with that email."""
        changes = {k: v for k, v in body.items() if k in self._CHANGEABLE}
        with self._lock:
            accounts = [a for a in self._accounts.values() if a.name == body.get("account")]
        if not accounts or not isinstance(body.get("email"), str):
            return 404, _error("not_found", "No such account or no email given")
        account = accounts[0]
        customers = account.customer_by_email(body["email"])
        updated = [account.update_customer(c["id"], **changes) for c in customers]
        return 200, {"customers": updated}


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise SmileHttpError(404, "not_found", "Not found") from exc


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, standin: SmileStandIn) -> None:
        self.standin = standin
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout) closed the socket: nothing to report."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


# = SCM_TIMESTAMPNS; Python's socket module does not name it (35 in Linux's asm-generic).
_SO_TIMESTAMPNS: int | None = getattr(
    socket, "SO_TIMESTAMPNS", 35 if sys.platform == "linux" else None
)


class _StampedSocket(io.RawIOBase):
    """A connection's reads, with the kernel's receive time of the first packet read since
    `stamp` was cleared (SO_TIMESTAMPNS, Linux; elsewhere no stamp)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.stamp: float | None = None
        self.stamping = _SO_TIMESTAMPNS is not None
        if _SO_TIMESTAMPNS is not None:
            sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.stamping:
            return self.sock.recv_into(buffer)
        size, ancillary, _flags, _address = self.sock.recvmsg_into([buffer], socket.CMSG_SPACE(16))
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and self.stamp is None:
                seconds, nanoseconds = struct.unpack("qq", data[:16])
                self.stamp = seconds + nanoseconds / 1e9
        return size


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the stand-in keeps its own request log."""

    def setup(self) -> None:
        super().setup()
        self.rfile.close()
        self._socket_reads = _StampedSocket(self.connection)
        self.rfile = io.BufferedReader(self._socket_reads)

    def handle_one_request(self) -> None:
        self._socket_reads.stamp = None  # the next request's first packet sets it
        super().handle_one_request()

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        standin = self.server.standin
        if self.path.startswith("/_control/"):
            try:
                body = json.loads(raw_body) if raw_body else None
            except ValueError:
                body = None
            reply: tuple[int, Any] | None = standin.control(
                self.command, urlsplit(self.path).path, body
            )
        else:
            reply = standin.handle(
                self.command, self.path, headers, raw_body, self._socket_reads.stamp
            )
        if reply is None:
            self.close_connection = True
            return
        status, payload = reply
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
