"""A client-side limit on requests per API key: Smile allows 10 per second and sends no
Retry-After, so staying under the limit is cheaper than backing off after a 429.

Two limiters with one interface: `acquire(priority)` before a request, `on_time()` right before
its bytes go out (False: the grant went stale, acquire again), `sent(at)` once they went out.

- `RateLimiter` (`customer_hub.smile.budget`) — one per key digest and process (threads of
  one process share it).
- `SharedRateLimiter` — one budget per key for *every* process and Lambda instance: a
  schedule kept in one DynamoDB item (GCRA, "theoretical arrival time"). Each Smile request
  books the next free slot with one conditional UpdateItem, then sleeps until the slot:
  * busy schedule (`tat` ahead of now): `SET tat = tat + spacing` — an atomic increment, so
    concurrent bookers never conflict; the caller's slot is the old `tat`;
  * idle schedule (`tat` in the past): `SET tat = now + spacing`, the slot is now.
  Priority is how far ahead a caller may book (`HORIZON_SECONDS`): a purchase (redemption)
  books up to 5 s ahead, a storefront read 0.6 s, the sync 0.5 s. When the sync saturates the
  key the schedule is at most 0.5 s deep, so a redemption waits about 0.5 s, never behind a
  long sync queue; a sync caller that finds the schedule full sleeps until it has room, plus
  a random backoff that doubles with each refusal and shrinks with each grant (many waiting
  instances spread out instead of all retrying when one slot frees).
  A call waits for its slot at most `WAIT_BUDGET_SECONDS` of its priority in all (a purchase:
  5 s, the wait the redeem function's timeout is sized for), or its client's budget for all
  its calls (a redemption's 5 s; a storefront view's 0.9 s, then it serves the snapshot; the
  sync none but its invocation's time left): no slot is booked past that deadline, a grant
  gone stale is booked again only while it allows, and a schedule whose end is past it
  refuses the call at once (`LimiterBusy`, before anything is sent).
  Cost: one UpdateItem per Smile request, a second one when the guess of busy/idle or room
  was wrong (the failed request returns the stored `tat`, so no read is needed). If DynamoDB
  fails, the call falls back to the process-local limiter (a redemption is never blocked by
  the limiter's own storage).

Why no 1-second window at Smile holds 11 requests. Slots are `spacing` = (1 s + margin) / 10
apart, so any 11 slots span at least 1 s + `WINDOW_MARGIN_SECONDS` (0.1 s). The margin is
split between two delays: a request leaves (its headers are written to the socket) at most
`SEND_ALLOWANCE_SECONDS` (60 ms) after its slot, and its transit to Smile's clock may vary by
up to the rest (40 ms). Then request i arrives before slot i + 100 ms and request i + 10 not
before slot i + 1.1 s: more than 1 s apart, whatever the load on either machine. The first
delay is enforced, not assumed:
  * `on_time()` runs as the last step before the HTTP client sends (an httpx request hook):
    a grant more than `LATE_SLOT_SECONDS` (50 ms) old is not used; the caller books again.
  * `sent(at)` runs when the headers were written (httpcore's trace): a request that still
    left more than 60 ms after its slot (the process was descheduled between the check and the
    write) pushes the schedule by its excess, `SET tat = tat + excess`, so every slot booked
    afterwards keeps 1 s + margin from it — only when the schedule ends within 1 s + margin
    of the request (a schedule booked further ahead is not pushed: the delays of many late
    requests would add up and refuse purchases for want of a slot).
  * A booking puts the soonest slot as far ahead as an UpdateItem takes from here (x1.5,
    up to 2 s and within the caller's horizon; the estimate rises fast, falls slowly): with
    DynamoDB slow or the instance starved of CPU, a slot must not pass while it is booked.
A slot that goes unused costs only throughput; the caller that let it pass re-anchors the
schedule on itself (`SET tat = now + spacing` if nobody booked after its slot) instead of
queueing behind it. A lone caller thus uses all 9.09 slots per second when each answer and
its next booking fit in a slot (110 ms); each wake more than 50 ms late costs about one slot
(8.5-8.9/s measured at load 4-7 on 2 cores), and against a Smile answering in 200 ms one
request at a time gets ~3.6/s: the key's rate needs requests in flight together (the sync
overlaps what Smile's API lets it; bench/results.md, "Shared Smile limiter").
Clocks: the schedule is wall-clock milliseconds; instances on one host share a clock and
Lambda hosts are kept within about a millisecond of UTC (Amazon Time Sync), far below the
margin.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from customer_hub.smile.budget import (
    HORIZON_SECONDS,
    LATE_SLOT_SECONDS,
    SEND_ALLOWANCE_SECONDS,
    SMILE_REQUESTS_PER_SECOND,
    WAIT_BUDGET_SECONDS,
    WINDOW_MARGIN_SECONDS,
    LimiterBusy,
    Priority,
    RateLimiter,
    wait_budget,
)

# The budget's names stay importable from here, where the limiter that keeps it lives.
__all__ = [
    "HORIZON_SECONDS",
    "LATE_SLOT_SECONDS",
    "RATE_SK",
    "SEND_ALLOWANCE_SECONDS",
    "SMILE_REQUESTS_PER_SECOND",
    "WAIT_BUDGET_SECONDS",
    "WINDOW_MARGIN_SECONDS",
    "LimiterBusy",
    "LimiterStats",
    "Priority",
    "RateLimiter",
    "SharedRateLimiter",
    "limiter_for",
    "shared_table",
    "wait_budget",
]

RATE_SK = "BUCKET"
# The furthest ahead of now a booking puts the soonest slot when UpdateItems are slow.
MAX_BOOKING_LEAD_MS = 2000

log = logging.getLogger("customer_hub.smile.ratelimit")


class LimiterStats:
    """What the shared limiters of this process did (benchmarks and tests read it)."""

    grants = 0
    dynamodb_requests = 0
    fallbacks = 0
    late = 0  # grants not used: stale when the request was about to leave
    pushes = 0  # requests that left > SEND_ALLOWANCE_SECONDS after their slot
    update_ms: list[float] = []  # how long each UpdateItem took (benchmarks: p50 / p99)
    _lock = threading.Lock()

    @classmethod
    def count(
        cls,
        grants: int = 0,
        requests: int = 0,
        fallbacks: int = 0,
        late: int = 0,
        pushes: int = 0,
    ) -> None:
        with cls._lock:
            cls.grants += grants
            cls.dynamodb_requests += requests
            cls.fallbacks += fallbacks
            cls.late += late
            cls.pushes += pushes

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.grants = cls.dynamodb_requests = cls.fallbacks = cls.late = cls.pushes = 0
            cls.update_ms = []

    @classmethod
    def took(cls, ms: float) -> None:
        with cls._lock:
            if len(cls.update_ms) < 100_000:
                cls.update_ms.append(ms)


class SharedRateLimiter:
    """One key's budget shared by every instance: a slot schedule in one DynamoDB item."""

    def __init__(
        self,
        table_name: str,
        digest: str,
        rate: int = SMILE_REQUESTS_PER_SECOND,
        window: float = 1.0 + WINDOW_MARGIN_SECONDS,
        *,
        fallback: RateLimiter | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate < 1 or window <= 0:
            raise ValueError("rate must be >= 1 and window > 0")
        self.table_name = table_name
        self.pk = f"SMILE_RATE#{digest[:32]}"
        self.spacing_ms = int(window * 1000 / rate + 0.999)
        self.window_ms = int(window * 1000)
        self.fallback = fallback or RateLimiter(rate, window)
        self._clock = clock
        self._sleep = sleep
        self._seen_tat = 0  # the last schedule end we saw: guesses busy or idle
        self._spread = 1.0  # backoff window in slots: x2 on a refusal, x0.75 on a grant
        self._rtt_ms = 10.0  # an UpdateItem's time from here: rises fast, falls slowly
        # No lock across bookings (atomic UpdateItems): one held across the call queued every
        # thread of `hub dev` behind the slowest booking, purchases 5-11 s.
        # Per thread: `slot`, the grant its next request uses; `unused`, a slot it let pass.
        self._local = threading.local()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _update(self, expression: str, condition: str, values: dict[str, int]) -> int | None:
        """One conditional UpdateItem; the new `tat` when it applied, else None (the stored
        `tat` is remembered from the failed request's old item)."""
        from customer_hub.infra.aws import client

        dynamodb = client("dynamodb")
        LimiterStats.count(requests=1)
        started = time.monotonic()
        try:
            response = dynamodb.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": self.pk}, "sk": {"S": RATE_SK}},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues={k: {"N": str(v)} for k, v in values.items()},
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException as exc:
            old: dict[str, Any] = getattr(exc, "response", {}).get("Item") or {}
            if "tat" in old:
                self._seen_tat = int(old["tat"]["N"])
            return None
        finally:
            self._took((time.monotonic() - started) * 1000)
        tat = int(response["Attributes"]["tat"]["N"])
        self._seen_tat = tat
        return tat

    def _took(self, ms: float) -> None:
        self._rtt_ms += (0.5 if ms > self._rtt_ms else 0.1) * (ms - self._rtt_ms)
        LimiterStats.took(ms)

    def _book(self, horizon: int) -> tuple[int | None, int]:
        """Try once to book a slot at most `horizon` ms ahead: (slot in ms or None, the stored
        schedule end).

        The soonest slot is now + the time an UpdateItem takes here (x1.5, from 5 ms to 2 s,
        never past the caller's horizon): a slot that passed while its booking travelled would
        be given up on arrival."""
        now = self._now_ms()
        soonest = now + min(MAX_BOOKING_LEAD_MS, horizon, max(5, int(1.5 * self._rtt_ms)))
        unused = getattr(self._local, "unused", None)
        self._local.unused = None
        if unused is not None and self._seen_tat == unused + self.spacing_ms:
            # This thread let its slot pass and, as far as it knows, nobody booked after it:
            # the schedule restarts from now instead of queueing behind that slot.
            tat = self._update(
                "SET tat = :next",
                "tat = :end",
                {":next": soonest + self.spacing_ms, ":end": unused + self.spacing_ms},
            )
            if tat is not None:
                return soonest, tat
        if self._seen_tat > soonest:
            if self._seen_tat - now > horizon:
                return None, self._seen_tat  # full for this caller as far as we know
            tat = self._update(
                "SET tat = tat + :s",
                "tat > :soonest AND tat <= :limit",
                {":s": self.spacing_ms, ":soonest": soonest, ":limit": now + horizon},
            )
            if tat is not None:
                return tat - self.spacing_ms, tat
            if self._seen_tat > soonest:
                return None, self._seen_tat
        tat = self._update(
            "SET tat = :next",
            "attribute_not_exists(tat) OR tat <= :soonest",
            {":next": soonest + self.spacing_ms, ":soonest": soonest},
        )
        if tat is not None:
            return soonest, tat
        return None, self._seen_tat

    def acquire(self, priority: Priority = "interactive", within: float | None = None) -> float:
        """Block until this process may send one request on the key; returns seconds waited.

        Raises LimiterBusy, before anything is sent, when no slot can be had within `within`
        seconds (default: the priority's `WAIT_BUDGET_SECONDS`): no slot is booked past that
        deadline, and a grant gone stale is booked again only while the deadline allows."""
        started = self._clock()
        deadline = self._now_ms() + 1000 * (wait_budget(priority) if within is None else within)
        if deadline < math.inf:
            self._seen_tat = 0  # refused only on the schedule as it is now, not a stale guess
        raced = 0
        self._local.slot = None
        while True:
            now = self._now_ms()
            horizon = min(HORIZON_SECONDS[priority] * 1000, deadline - now)
            if horizon < 0:
                raise LimiterBusy(max(0.0, self._seen_tat - now) / 1000)
            try:
                slot, tat = self._book(int(horizon))
            except Exception:
                log.warning("shared Smile limiter unavailable; limiting in process")
                LimiterStats.count(fallbacks=1)
                return self.fallback.acquire(priority, max(0.0, (deadline - now) / 1000))
            now = self._now_ms()
            if slot is not None:
                self._spread = max(1.0, self._spread * 0.75)
                if slot > now:
                    self._sleep((slot - now) / 1000)
                self._local.slot = slot
                if self._fresh():
                    LimiterStats.count(grants=1)
                    # This instance's own sends also keep a sliding window on their actual
                    # times (a late wake never puts 11 of its requests within 1.1 s).
                    self.fallback.acquire(priority, math.inf)
                    return self._clock() - started
                continue  # woke too late for the slot (a paused process): book another
            if tat > deadline:  # no slot before the deadline: the schedule only moves on
                raise LimiterBusy(max(0.0, (tat - now) / 1000 - HORIZON_SECONDS[priority]))
            # Full for this caller: sleep until the schedule has room plus a random backoff
            # whose window doubles with each refusal and shrinks by a quarter with each grant
            # (kept across calls): N waiting instances settle near one attempt per slot.
            room_at = tat - int(horizon)
            if room_at <= now and raced < 3:
                raced += 1
                continue  # lost a race for an idle schedule: it has room, book again at once
            self._spread = min(16.0, self._spread * 2)
            spread = self.spacing_ms * self._spread * random.random()
            self._sleep(max(0, min(room_at - now + spread, deadline - now)) / 1000)

    def _fresh(self) -> bool:
        """Whether this thread's grant is at most `LATE_SLOT_SECONDS` old; if not, it is
        given up (and remembered as the slot this thread let pass)."""
        slot = getattr(self._local, "slot", None)
        if slot is None or self._now_ms() - slot <= LATE_SLOT_SECONDS * 1000:
            return True
        self._local.slot = None
        self._local.unused = slot
        LimiterStats.count(late=1)
        return False

    def on_time(self) -> bool:
        """Whether this thread's grant may still be used; called as the last step before the
        request leaves. A grant over `LATE_SLOT_SECONDS` old is given up: acquire again."""
        if self._fresh():
            return True
        LimiterStats.count(grants=-1)  # granted, but nothing was sent on it
        return False

    def sent(self, at: float) -> None:
        """The request of this thread's grant left at `at` (epoch seconds, when its headers
        were written). Later than `SEND_ALLOWANCE_SECONDS` after its slot, the schedule moves
        on by the excess (one UpdateItem): the slots booked from now on keep 1 s + margin from
        this request however late it left."""
        slot = getattr(self._local, "slot", None)
        self._local.slot = None
        if slot is None:
            return
        left_ms = int(at * 1000)
        excess = left_ms - slot - int(SEND_ALLOWANCE_SECONDS * 1000)
        if excess <= 0:
            return
        LimiterStats.count(pushes=1)
        try:  # only a schedule ending within 1 s + margin of it (module docstring)
            self._update(
                "SET tat = tat + :d",
                "attribute_exists(tat) AND tat < :bound",
                {":d": excess, ":bound": left_ms + self.window_ms},
            )
        except Exception:
            log.warning("shared Smile limiter unavailable; late request not accounted")


_limiters: dict[tuple[str, int, float], RateLimiter | SharedRateLimiter] = {}
_registry_lock = threading.Lock()


def shared_table() -> str | None:
    """The table of the shared limiter (`SMILE_RATE_LIMIT=shared`: the data table), or None."""
    if os.environ.get("SMILE_RATE_LIMIT", "local") != "shared":
        return None
    from customer_hub.infra.config import config

    return config().data_table


def limiter_for(
    api_key: str,
    rate: int = SMILE_REQUESTS_PER_SECOND,
    window: float = 1.0 + WINDOW_MARGIN_SECONDS,
) -> RateLimiter | SharedRateLimiter:
    """The key's limiter in this process (keyed by its digest, never the key itself): shared
    through DynamoDB by every instance when `SMILE_RATE_LIMIT=shared`, else in process."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    table = shared_table()
    with _registry_lock:
        limiter = _limiters.get((digest, rate, window))
        if limiter is None or (table is not None) != isinstance(limiter, SharedRateLimiter):
            limiter = (
                SharedRateLimiter(table, digest, rate, window)
                if table
                else RateLimiter(rate, window)
            )
            _limiters[(digest, rate, window)] = limiter
        return limiter
