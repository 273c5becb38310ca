"""GET /v1/openapi.json — the OpenAPI 3.1 document of the whole HTTP API (public)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response

from customer_hub.edge.http import make_app, public_route

logger = Logger()
app = make_app()

# Written beside this module by `make openapi` (a copy of docs/openapi.json).
DOCUMENT = Path(__file__).resolve().parent / "openapi.json"


_DOCUMENT_SCHEMA = {
    "type": "object",
    "description": "An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0).",
    "required": ["openapi", "info", "paths", "components"],
    "properties": {
        "openapi": {"type": "string", "pattern": "^3\\.1\\.\\d+$"},
        "info": {"type": "object", "required": ["title", "version"]},
        "paths": {"type": "object"},
        "components": {"type": "object"},
    },
}


@cache
def _document() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


@app.get(
    "/v1/openapi.json",
    responses={
        200: {
            "description": "The OpenAPI 3.1 document (this document).",
            "content": {"application/json": {"schema": _DOCUMENT_SCHEMA}},
        }
    },
)
def get_openapi() -> Response[str]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=_document(),
        headers={"Cache-Control": "public, max-age=300"},
    )


handler = public_route(app, logger)
