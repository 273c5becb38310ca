"""A client-side limit on requests per API key: Smile allows 10 per second and sends no
Retry-After, so staying under the limit is cheaper than backing off after a 429.

Two limiters with one interface, `acquire(priority)`:

- `RateLimiter` — one per key digest and process (threads of one process share it).
- `SharedRateLimiter` — one budget per key for *every* process and Lambda instance: a
  schedule kept in one DynamoDB item (GCRA, "theoretical arrival time"). Each Smile request
  books the next free slot with one conditional UpdateItem, then sleeps until the slot:
  * busy schedule (`tat` ahead of now): `SET tat = tat + spacing` — an atomic increment, so
    concurrent bookers never conflict; the caller's slot is the old `tat`;
  * idle schedule (`tat` in the past): `SET tat = now + spacing`, the slot is now.
  Consecutive slots are therefore at least `spacing` = (1 s + margin) / 10 apart, so any
  1-second window holds at most 10 requests even when a request travels up to `margin`
  faster than the one 10 places before it.
  Priority is how far ahead a caller may book (`HORIZON_SECONDS`): a purchase (redemption)
  books up to 5 s ahead, a storefront read 0.6 s, the sync 0.5 s. When the sync saturates the
  key the schedule is at most 0.5 s deep, so a redemption waits about 0.5 s, never behind a
  long sync queue; a sync caller that finds the schedule full sleeps until it has room, plus
  a random backoff that doubles with each refusal and shrinks with each grant (many waiting
  instances spread out instead of all retrying when one slot frees).
  Cost: one UpdateItem per Smile request, a second one when the guess of busy/idle or room
  was wrong (the failed request returns the stored `tat`, so no read is needed). If DynamoDB
  fails, the call falls back to the process-local limiter (a redemption is never blocked by
  the limiter's own storage).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

SMILE_REQUESTS_PER_SECOND = 10
# Requests leave at least this much later than a strict 1 s window would allow, so a request
# that travels faster than the one 10 places before it still lands in a later second at Smile.
WINDOW_MARGIN_SECONDS = 0.1

Priority = Literal["urgent", "interactive", "background"]
# How far ahead of now each priority may book a slot (seconds).
# A storefront read waits at most ~0.6 s for its slot (its whole Smile budget is 1.5 s).
HORIZON_SECONDS: dict[str, float] = {"urgent": 5.0, "interactive": 0.6, "background": 0.5}
# A caller that wakes this much after its slot does not send in it (it could land within 1 s
# of a request 10 slots later): it books again. An unused slot only lowers the rate.
LATE_SLOT_SECONDS = 0.04
RATE_SK = "BUCKET"

log = logging.getLogger("customer_hub.smile.ratelimit")


class RateLimiter:
    """Sliding window: at most `rate` acquisitions in any `window` seconds (one process)."""

    def __init__(
        self,
        rate: int = SMILE_REQUESTS_PER_SECOND,
        window: float = 1.0 + WINDOW_MARGIN_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate < 1 or window <= 0:
            raise ValueError("rate must be >= 1 and window > 0")
        self.rate = rate
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self, priority: Priority = "interactive") -> float:
        """Block until a request may be sent; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if len(self._sent) < self.rate:
                    self._sent.append(now)
                    return waited
                delay = self._sent[0] + self.window - now
            self._sleep(delay)
            waited += delay


class LimiterStats:
    """What the shared limiters of this process did (benchmarks and tests read it)."""

    grants = 0
    dynamodb_requests = 0
    fallbacks = 0
    late = 0
    _lock = threading.Lock()

    @classmethod
    def count(cls, grants: int = 0, requests: int = 0, fallbacks: int = 0, late: int = 0) -> None:
        with cls._lock:
            cls.grants += grants
            cls.dynamodb_requests += requests
            cls.fallbacks += fallbacks
            cls.late += late

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.grants = cls.dynamodb_requests = cls.fallbacks = cls.late = 0


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
        self.fallback = fallback or RateLimiter(rate, window)
        self._clock = clock
        self._sleep = sleep
        self._seen_tat = 0  # the last schedule end we saw: guesses busy or idle
        self._spread = 1.0  # backoff window in slots: x2 on a refusal, x0.75 on a grant
        # Threads of one process book one at a time: the process, not each thread, contends.
        self._lock = threading.Lock()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _update(self, expression: str, condition: str, values: dict[str, int]) -> int | None:
        """One conditional UpdateItem; the new `tat` when it applied, else None (the stored
        `tat` is remembered from the failed request's old item)."""
        from customer_hub.infra.aws import client

        dynamodb = client("dynamodb")
        LimiterStats.count(requests=1)
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
        tat = int(response["Attributes"]["tat"]["N"])
        self._seen_tat = tat
        return tat

    def _book(self, priority: Priority) -> tuple[int | None, int]:
        """Try once to book a slot: (slot in ms or None, the stored schedule end)."""
        now = self._now_ms()
        horizon = int(HORIZON_SECONDS[priority] * 1000)
        if self._seen_tat > now:
            if self._seen_tat - now > horizon:
                return None, self._seen_tat  # full for this priority as far as we know
            tat = self._update(
                "SET tat = tat + :s",
                "tat > :now AND tat <= :limit",
                {":s": self.spacing_ms, ":now": now, ":limit": now + horizon},
            )
            if tat is not None:
                return tat - self.spacing_ms, tat
            if self._seen_tat > now:
                return None, self._seen_tat
        tat = self._update(
            "SET tat = :next",
            "attribute_not_exists(tat) OR tat <= :now",
            {":next": now + self.spacing_ms, ":now": now},
        )
        if tat is not None:
            return now, tat
        return None, self._seen_tat

    def acquire(self, priority: Priority = "interactive") -> float:
        """Block until this process may send one request on the key; returns seconds waited."""
        started = self._clock()
        raced = 0
        while True:
            try:
                with self._lock:
                    slot, tat = self._book(priority)
            except Exception:
                log.warning("shared Smile limiter unavailable; limiting in process")
                LimiterStats.count(fallbacks=1)
                return self.fallback.acquire(priority)
            now = self._now_ms()
            if slot is not None:
                self._spread = max(1.0, self._spread * 0.75)
                if slot > now:
                    self._sleep((slot - now) / 1000)
                if self._now_ms() - slot <= LATE_SLOT_SECONDS * 1000:
                    LimiterStats.count(grants=1)
                    # This instance's own sends also keep a sliding window on their actual
                    # times (a late wake never puts 11 of its requests within 1.1 s).
                    self.fallback.acquire(priority)
                    return self._clock() - started
                LimiterStats.count(late=1)
                continue  # woke too late for the slot (a paused process): book another
            # Full for this priority: sleep until the schedule has room plus a random backoff
            # whose window doubles with each refusal and shrinks by a quarter with each grant
            # (kept across calls): N waiting instances settle near one attempt per slot.
            room_at = tat - int(HORIZON_SECONDS[priority] * 1000)
            if room_at <= now and raced < 3:
                raced += 1
                continue  # lost a race for an idle schedule: it has room, book again at once
            self._spread = min(16.0, self._spread * 2)
            spread = self.spacing_ms * self._spread * random.random()
            self._sleep(max(0, room_at - now + spread) / 1000)


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
