"""A client-side limit on requests per API key: Smile allows 10 per second and sends no
Retry-After, so staying under the limit is cheaper than backing off after a 429.

One limiter per key digest and process, shared by every thread and client using that key.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable

SMILE_REQUESTS_PER_SECOND = 10
# Requests leave at least this much later than a strict 1 s window would allow, so a request
# that travels faster than the one 10 places before it still lands in a later second at Smile.
WINDOW_MARGIN_SECONDS = 0.1


class RateLimiter:
    """Sliding window: at most `rate` acquisitions in any `window` seconds."""

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

    def acquire(self) -> float:
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


_limiters: dict[tuple[str, int, float], RateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(
    api_key: str,
    rate: int = SMILE_REQUESTS_PER_SECOND,
    window: float = 1.0 + WINDOW_MARGIN_SECONDS,
) -> RateLimiter:
    """The process-wide limiter of one API key (keyed by its digest, never the key itself)."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    with _registry_lock:
        limiter = _limiters.get((digest, rate, window))
        if limiter is None:
            limiter = _limiters[(digest, rate, window)] = RateLimiter(rate, window)
        return limiter
