"""A size-bounded, expiring, thread-safe cache for the warm container's per-key caches.

Keys of these caches come from requests (API keys, merchant ids in paths): without a bound,
random keys grow a warm container's memory until Lambda kills it. Least recently used entries
go first; expired entries are never returned. Standard library only (the authorizer imports it).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class Missing:
    """What `get` answers for a key without a fresh entry (a cached value may be None)."""


MISSING = Missing()


class ExpiringLru[K, V]:
    """`get(key)` → the value stored with `put(key, value, ttl)` while fresh, else MISSING."""

    def __init__(self, maxsize: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | Missing:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return MISSING
            if entry[0] <= self._clock():
                del self._entries[key]
                return MISSING
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: K, value: V, ttl: float) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
