"""Response models: the success bodies of the HTTP API, as API.md fixes them.

Route handlers annotate their return type with these models, so Powertools' OpenAPI
generation documents every success body (`make openapi`) and its validation middleware
serializes exactly the declared fields. The domain modules still build plain dicts; a handler
turns one into its model with `Model.model_validate(...)`.

Every model forbids undeclared fields at run time: a field the domain starts returning
without a model change fails loudly in tests instead of being dropped from the response. The
published schemas do not forbid other fields, because API.md lets the API add fields.
`None` values are kept (`null`) and field order follows the domain's dicts.

Cold start: each route imports only its own small module (`schemas.loyalty`,
`schemas.coupons`, `schemas.events`, `schemas.dashboard`, `schemas.admin`). The models are
built at import, not deferred (`defer_build`): pydantic 2.13 does not guard a deferred build,
and two threads answering their first request at once (`hub dev`, the threaded tests) could
race on it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


def _open_schema(schema: dict[str, Any]) -> None:
    schema.pop("additionalProperties", None)


class ResponseModel(BaseModel):
    """A success body (or a part of one): every field declared, none silently dropped."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_open_schema)


Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
"""UTC ISO 8601, as stored (`2026-11-23T10:00:00Z`)."""

LocalDate = Annotated[str, Field(json_schema_extra={"format": "date"})]
"""`YYYY-MM-DD` in the merchant's time zone."""


class Money(ResponseModel):
    """`{"amount": "52.10", "currency": "USD"}`: a decimal string in the currency's minor
    unit digits, and the ISO 4217 code."""

    amount: str = Field(pattern=r"^-?\d+(\.\d+)?$")
    currency: str
