"""Smile's budget per API key, as every limiter counts it: 10 requests per second with a
margin, how far ahead each priority may book and how long it may wait in all, and the
process-local limiter (`RateLimiter`: one sliding window per key and process, the shared
limiter's fallback). Why these numbers keep every 1-second window at Smile within 10: the
docstring of `customer_hub.smile.ratelimit`."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

SMILE_REQUESTS_PER_SECOND = 10
# Requests leave at least this much later than a strict 1 s window would allow, so a request
# that travels faster than the one 10 places before it still lands in a later second at Smile.
WINDOW_MARGIN_SECONDS = 0.1
# Of the margin: how late after its slot a request may leave (its headers written); the rest
# (40 ms) is for transit to Smile varying from one request to another.
SEND_ALLOWANCE_SECONDS = 0.06

Priority = Literal["urgent", "interactive", "background"]
# How far ahead of now each priority may book a slot (seconds).
# A storefront read books at most 0.6 s ahead (its whole Smile budget is 1.5 s).
HORIZON_SECONDS: dict[str, float] = {"urgent": 5.0, "interactive": 0.6, "background": 0.5}
# The longest a call may wait in all for its slot (stale grants booked again included), by
# priority; past it the call fails before anything is sent (`LimiterBusy`). A purchase: its
# horizon, the wait the redeem function's timeout is sized for (tests/infra). Other calls are
# bounded by their callers: a storefront read's client by `READ_WAIT_SECONDS` in all, the
# sync by its invocation's time left.
WAIT_BUDGET_SECONDS: dict[str, float] = {"urgent": HORIZON_SECONDS["urgent"]}
# A storefront read's slot waits, all its calls together: its horizon and a few bookings'
# round trips, leaving the rest of its 1.5 s for Smile's answer (past it, it serves the
# snapshot). `customer_hub.smile.access.client_for("read")`.
READ_WAIT_SECONDS = HORIZON_SECONDS["interactive"] + 0.3
# A grant this old when the request is about to leave is not used (it could land within 1 s
# of a request 10 slots later): the caller books again. An unused slot only lowers the rate.
# Below SEND_ALLOWANCE_SECONDS: the check runs a few Python steps before the socket write.
LATE_SLOT_SECONDS = 0.05


class LimiterBusy(Exception):
    """No slot of the key's budget within the caller's wait budget; nothing was sent.
    `retry_after`: seconds until the schedule has room for this priority again (a guess)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"no Smile request slot free; retry in {retry_after:.1f} s")
        self.retry_after = retry_after


def wait_budget(priority: Priority) -> float:
    """How long a call of this priority may wait for its slots in all (inf: no bound)."""
    return WAIT_BUDGET_SECONDS.get(priority, math.inf)


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

    def acquire(self, priority: Priority = "interactive", within: float | None = None) -> float:
        """Block until a request may be sent; returns the seconds waited. Raises LimiterBusy
        at once when that would take longer than `within` (default: the priority's budget)."""
        budget = wait_budget(priority) if within is None else within
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
            if waited + delay > budget:
                raise LimiterBusy(delay)
            self._sleep(delay)
            waited += delay

    def on_time(self) -> bool:
        """The process-local window is kept on grant times: a grant never goes stale."""
        return True

    def sent(self, at: float) -> None:
        """Nothing to correct in process: the window counts grants."""
