"""RFC 9457 problem details: the one place where domain errors become HTTP responses."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

PROBLEM_BASE = "https://customer-hub.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class Problem(Exception):
    """An error the client can act on. Raised anywhere; rendered by the HTTP layer."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body

    def to_json(self) -> str:
        return json.dumps(self.body())


class ValidationProblem(Problem):
    status, slug, title = 422, "validation", "Invalid request"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Missing or invalid credentials"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class InsufficientPoints(Problem):
    status, slug, title = 409, "insufficient-points", "Not enough points"


class IdempotencyKeyInUse(Problem):
    status, slug, title = 409, "idempotency-key-in-use", "Idempotency key in use"


class IdempotencyKeyReused(Problem):
    status, slug, title = 422, "idempotency-key-reused", "Idempotency key reused"


class HubNotLive(Problem):
    status, slug, title = 409, "hub-not-live", "The Customer Hub is not live"


class SmileNotConnected(Problem):
    status, slug, title = 409, "smile-not-connected", "Smile.io is not connected"


class UpstreamUnavailable(Problem):
    status, slug, title = 503, "upstream-unavailable", "Smile.io is unavailable"


class RedemptionUnconfirmed(Problem):
    """Smile's answer to a purchase was lost and the hub cannot tell yet what Smile did."""

    status, slug, title = 503, "redemption-unconfirmed", "Redemption being confirmed"


class ServiceBusy(Problem):
    """The hub's own storage (DynamoDB) or secrets were throttled or did not answer."""

    status, slug, title = 503, "temporarily-unavailable", "Temporarily unavailable"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class RateLimited(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests"


def validation_error(loc: list[str | int], msg: str) -> ValidationProblem:
    """A 422 for one field, with the `errors` entry API.md describes."""
    return ValidationProblem(msg, errors=[{"loc": loc, "msg": msg}])


def validation_problem(
    errors: Iterable[Mapping[str, Any]], *, prefix: Sequence[str | int] = ()
) -> ValidationProblem:
    """The one mapper of validation errors (pydantic's `ValidationError.errors()`, Powertools'
    `RequestValidationError.errors()`) to a 422: every error located (`prefix` + its `loc`,
    without pydantic's `[key]` marker), the first one in `detail`."""
    located: list[dict[str, Any]] = [
        {
            "loc": [*prefix, *(part for part in error.get("loc", ()) if part != "[key]")],
            "msg": str(error.get("msg", "invalid value")),
        }
        for error in errors
    ]
    first = located[0] if located else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"])
    detail = f"{where}: {first['msg']}" if where else str(first["msg"])
    return ValidationProblem(detail, errors=located)
