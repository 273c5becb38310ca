"""The rate limiter's side of one Smile client: a slot before each request, bounded waits.

`SlotGate` books each request's slot in the key's limiter (`customer_hub.smile.ratelimit`) at
the request's priority — a POST (a purchase, a points transaction) always "urgent" — and keeps
one call's waits, retries and stale grants booked again included, within the priority's
`WAIT_BUDGET_SECONDS`: past it the call fails with `SmileBusy` before anything is sent. Its
`check` is the HTTP client's last request hook (a grant gone stale is not used: `LateForSlot`,
nothing sent, book again) and `trace` tells the limiter when the headers were written.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from customer_hub.smile.errors import SmileBusy
from customer_hub.smile.ratelimit import (
    LimiterBusy,
    Priority,
    RateLimiter,
    SharedRateLimiter,
    wait_budget,
)


class LateForSlot(Exception):
    """Raised by the request hook before anything is sent: the limiter's grant went stale."""


class SlotGate:
    """One client's slots in its key's limiter; counts the requests that went out.

    `budget`: how long this client's calls may wait for slots all together (a redemption's
    purchase, its fulfillment polls and reconciliation share one: `client_for("purchase")`);
    None bounds each call by its priority's budget alone."""

    def __init__(
        self, limiter: RateLimiter | SharedRateLimiter, budget: float | None = None
    ) -> None:
        self.limiter = limiter
        self.requests_made = 0
        self.budget = budget
        self.spent = 0.0  # seconds this client's calls waited for slots
        self._count_lock = threading.Lock()

    @staticmethod
    def priority_of(method: str, priority: Priority) -> Priority:
        """A POST goes first whatever the client reads at: it is a shopper's purchase."""
        return "urgent" if method == "POST" else priority

    def wait(self, priority: Priority, waited: float, path: str) -> float:
        """Wait for a slot; returns the call's wait so far (`waited` before this one).
        Raises SmileBusy when the call's budget has no slot left (nothing was sent)."""
        within = wait_budget(priority) - waited
        if self.budget is not None:
            within = min(within, self.budget - self.spent)
        try:
            got = self.limiter.acquire(priority, within)
        except LimiterBusy as exc:
            busy = SmileBusy(
                "Smile.io's request budget for this key is in use; nothing was sent", path=path
            )
            busy.retry_after = exc.retry_after
            raise busy from exc
        with self._count_lock:
            self.spent += got
        return waited + got

    def check(self, _request: Any) -> None:
        """The HTTP client's last request hook: a stale grant is not used."""
        if not self.limiter.on_time():
            raise LateForSlot
        with self._count_lock:
            self.requests_made += 1

    def trace(self, event: str, _info: Any) -> None:
        """httpcore's trace: tells the limiter when the request's headers were written."""
        if event == "http11.send_request_headers.complete":
            self.limiter.sent(time.time())
