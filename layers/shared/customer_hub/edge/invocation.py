"""This invocation's event and context: the one thread-safety mechanism of production code.

Powertools keeps a resolver's current event and Lambda context on the `BaseRouter` class, shared
by the whole process. Lambda runs one invocation per sandbox, so that is enough there; but
`hub dev` and the tests serve concurrent requests from threads of one process, where a request
could be routed by, or validated against, another request's event. So everything that reads
"the request" reads it from here, one `Invocation` per thread:

- the handler wrappers (`edge.http.public_route` / `merchant_route`, `edge.storefront`'s
  `storefront_route`) call `begin` with the raw event before anything else runs and `end` once
  answered, so even a request refused before the resolver (`checked_request`) never sees a
  previous request's event;
- `edge.http.HttpResolver.resolve` attaches Powertools' proxy event of the checked request
  (`HttpResolver.current_event` / `lambda_context` read it);
- `edge.storefront.request_event()` reads the raw event.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Invocation:
    """One invocation: the event as API Gateway sent it, its context and, once the resolver
    runs, Powertools' proxy event of the checked request."""

    raw_event: dict[str, Any]
    context: Any = None
    proxy_event: Any = field(default=None)
    admitted: Any = None  # what a storefront route's checks before its body returned


_local = threading.local()


def begin(raw_event: dict[str, Any], context: Any) -> Invocation:
    """A new invocation on this thread; whatever an earlier one left is gone."""
    invocation = Invocation(raw_event if isinstance(raw_event, dict) else {}, context)
    _local.invocation = invocation
    return invocation


def end() -> None:
    """The invocation is answered: nothing of it stays on the thread for the next one."""
    _local.invocation = None


def current() -> Invocation | None:
    """This thread's invocation, None when no handler began one."""
    invocation: Invocation | None = getattr(_local, "invocation", None)
    return invocation


def resolving(event: dict[str, Any], context: Any, proxy_event: Any) -> Invocation:
    """The invocation the resolver is about to serve, with its proxy event attached.

    Called with the checked request of the invocation a wrapper began; a resolver called
    directly (without a wrapper, or a second time) begins its own, never reusing an earlier one.
    """
    invocation = current()
    if invocation is None or invocation.proxy_event is not None:
        invocation = begin(event, context)
    invocation.proxy_event = proxy_event
    invocation.context = context
    return invocation


def raw_event() -> dict[str, Any]:
    """This invocation's raw event ({} outside an invocation)."""
    invocation = current()
    return invocation.raw_event if invocation is not None else {}
