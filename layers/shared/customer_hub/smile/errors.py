"""Typed Smile.io failures. None of them ever carries the API key (bodies are redacted)."""

from __future__ import annotations

import json
from typing import Any

_BODY_LIMIT = 2000


class SmileError(Exception):
    """Smile answered with an error (or not at all). `body` is the raw text, redacted."""

    def __init__(
        self, message: str, *, status: int | None = None, body: str = "", path: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        self.path = path
        # True when Smile may have acted on a write before the answer was lost or garbled (a
        # timeout after the request was sent, a reset connection, 500/502/504): the caller
        # must find out what happened before it claims anything either way.
        self.maybe_acted = False

    def __str__(self) -> str:
        where = f" ({self.status} on {self.path})" if self.status else f" ({self.path})"
        return self.message + (where if self.path else "")

    @property
    def json(self) -> Any:
        """The body as JSON when it is JSON, else None."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class SmileBadRequest(SmileError):
    """400: the request was malformed (a bug on our side)."""


class SmileUnauthorized(SmileError):
    """401: Smile rejected the API key."""


class SmileForbidden(SmileError):
    """403: the key is valid but lacks a permission (scope) for this call."""


class SmileNotFound(SmileError):
    """404: no such object (or the account cannot see it)."""


class SmileUnprocessable(SmileError):
    """422: Smile refused the change, e.g. a purchase the points balance cannot pay for."""


class SmileInvalidResponse(SmileError):
    """A 2xx answer that is not the JSON shape Smile documents."""


class SmileUnavailable(SmileError):
    """5xx, timeouts or connection failures that outlasted the retries."""


class SmileRateLimited(SmileUnavailable):
    """429 that outlasted the retries."""


class SmileBusy(SmileUnavailable):
    """The key's shared request budget had no slot within the call's wait budget: nothing was
    sent, so Smile did nothing (a purchase spent no points)."""

    retry_after: float = 0.0  # when the schedule may have room again (seconds, a guess)


_BY_STATUS: dict[int, type[SmileError]] = {
    400: SmileBadRequest,
    401: SmileUnauthorized,
    403: SmileForbidden,
    404: SmileNotFound,
    422: SmileUnprocessable,
    429: SmileRateLimited,
}


def error_message(body: str) -> str:
    """Smile's error body is undocumented: find a message in the usual shapes, else none."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    candidates: list[Any] = []
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            candidates += [error.get("message"), error.get("description"), error.get("code")]
        candidates += [error, data.get("message"), data.get("error_description")]
        errors = data.get("errors")
        if isinstance(errors, list):
            candidates += [e.get("message") if isinstance(e, dict) else e for e in errors]
        elif isinstance(errors, dict):
            candidates += [f"{k}: {v}" for k, v in errors.items()]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()[:300]
    return ""


def redact(text: str, secret: str) -> str:
    text = text[:_BODY_LIMIT]
    return text.replace(secret, "[redacted]") if secret else text


def error_for(status: int, body: str, path: str) -> SmileError:
    kind = _BY_STATUS.get(status) or (SmileUnavailable if status >= 500 else SmileError)
    message = error_message(body) or f"Smile.io answered {status}"
    return kind(message, status=status, body=body, path=path)
