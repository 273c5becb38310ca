"""The OpenAPI 3.1 document of the whole HTTP API, generated from the route handlers.

Every HttpApi route of template.yaml is served by its own function whose module has a
Powertools resolver `app` (`enable_validation=True`); each resolver knows the parameters and
body models of its one route. This module imports every route function, takes its operation
and component schemas, and merges them into one document with what only the template and
API.md know: security (merchant API key, customer JWT, Shopify signature), the problem+json
error responses each route may return, success statuses other than 200, tags and servers.

`make openapi` (`python -m hubdev.openapi`) writes `docs/openapi.json` and the copy shipped
with the `GET /v1/openapi.json` function; `--check` exits 1 when either is stale. New routes
are picked up from template.yaml; routes whose status codes API.md details beyond the defaults
are listed in `_EXTRA_PROBLEMS` / `_SUCCESS_STATUS` below.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hubdev.template import ROOT, HttpRoute, Template

DOCUMENT = ROOT / "docs" / "openapi.json"
SHIPPED = ROOT / "functions" / "get_openapi" / "openapi.json"
OUTPUTS = (DOCUMENT, SHIPPED)

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SCHEMA_REF = "#/components/schemas/"
# Powertools' own validation error models: replaced by the problem+json responses.
_POWERTOOLS_ERROR_SCHEMAS = {"HTTPValidationError", "ValidationError", "ResponseValidationError"}

STOREFRONT_PREFIX = "/v1/shops/{merchant_id}/hub"
# Storefront routes where the customer token is optional (API.md: anonymous shoppers).
OPTIONAL_CUSTOMER_TOKEN = {("GET", f"{STOREFRONT_PREFIX}/loyalty")}
# Storefront routes authenticated by their body instead (the theme-signed session).
SIGNED_BODY = {("POST", f"{STOREFRONT_PREFIX}/session")}

# Problem statuses API.md gives particular routes beyond the ones every route of its kind gets
# (401 with credentials, 404 with path parameters, 422 with inputs, 429 always, 503 always:
# DynamoDB throttled past the SDK's retries is a retryable `temporarily-unavailable`).
_SMILE_DOWN = {502, 503}
_EXTRA_PROBLEMS: dict[tuple[str, str], set[int]] = {
    ("GET", f"{STOREFRONT_PREFIX}/loyalty"): {409} | _SMILE_DOWN,
    ("GET", f"{STOREFRONT_PREFIX}/rewards"): {409} | _SMILE_DOWN,
    ("POST", f"{STOREFRONT_PREFIX}/rewards/{{points_product_id}}/redeem"): {403, 409, 422}
    | _SMILE_DOWN,
    ("GET", f"{STOREFRONT_PREFIX}/coupons"): {409} | _SMILE_DOWN,
    ("POST", f"{STOREFRONT_PREFIX}/coupons/{{coupon_id}}/apply"): {403, 409} | _SMILE_DOWN,
    ("POST", f"{STOREFRONT_PREFIX}/events"): {409, 422},
    ("POST", "/v1/webhooks/shopify/{merchant_id}"): {422},
    ("POST", f"{STOREFRONT_PREFIX}/session"): {401},
    ("PUT", "/v1/admin/smile/connection"): {422} | _SMILE_DOWN,
    ("POST", "/v1/admin/smile/sync"): {409},
    ("POST", "/v1/admin/credentials/{name}/rotate"): {403, 409, 422},
}
# API.md success statuses other than 200.
_SUCCESS_STATUS: dict[tuple[str, str], int] = {
    ("POST", f"{STOREFRONT_PREFIX}/rewards/{{points_product_id}}/redeem"): 201,
    ("POST", f"{STOREFRONT_PREFIX}/events"): 202,
    ("POST", "/v1/admin/smile/sync"): 202,
    ("DELETE", "/v1/admin/smile/connection"): 204,
    ("PUT", "/v1/admin/shopify/webhook-secret"): 204,
}
_SUCCESS_DESCRIPTION = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content"}
_POWERTOOLS_SUCCESS_DESCRIPTION = "Successful Response"

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying (when known).",
        "schema": {"type": "integer", "minimum": 0},
    }
}
# Status -> (component name, description, problem slugs).
_PROBLEM_RESPONSES: dict[int, tuple[str, str, list[str]]] = {
    401: ("Unauthorized", "Missing or invalid credentials.", ["unauthorized"]),
    403: ("Forbidden", "Valid credentials, but not allowed.", ["forbidden"]),
    404: (
        "NotFound",
        "Unknown resource (also another merchant's resource).",
        ["not-found"],
    ),
    409: (
        "Conflict",
        "Conflicts with the current state.",
        [
            "conflict",
            "insufficient-points",
            "idempotency-key-in-use",
            "hub-not-live",
            "smile-not-connected",
        ],
    ),
    422: (
        "ValidationFailed",
        "Invalid input; `errors` lists each invalid field by location.",
        ["validation", "idempotency-key-reused"],
    ),
    429: (
        "RateLimited",
        "Too many requests; retry after `Retry-After` seconds.",
        ["rate-limited"],
    ),
    502: (
        "BadGateway",
        "Smile.io failed; retryable.",
        ["upstream-unavailable"],
    ),
    503: (
        "UpstreamUnavailable",
        "Smile.io (`upstream-unavailable`) or the hub's own storage (`temporarily-unavailable`, "
        "throttled) is unavailable; retryable (`Retry-After` when known).",
        ["upstream-unavailable", "temporarily-unavailable"],
    ),
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details (`application/problem+json`). `type` is "
    "`https://customer-hub.dev/problems/<slug>`; routes may add fields (e.g. `points_needed`).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "msg": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

SECURITY_SCHEMES: dict[str, Any] = {
    "MerchantApiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "The merchant's API key: `Authorization: Bearer <api_key>`.",
    },
    "CustomerToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Customer token: HS256 JWT signed with the merchant's "
        "`customer_token_secret`; claims `iss` (merchant id), `sub` (Shopify customer id), "
        "`email`, `iat`, `exp` (at most 1 hour after `iat`).",
    },
    "ShopifyWebhookSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Shopify-Hmac-Sha256",
        "description": "base64(HMAC-SHA256(raw body, merchant's `webhook_secret`)).",
    },
}

TAGS = [
    {"name": "storefront", "description": "The hub in the shop (customer token)."},
    {"name": "webhooks", "description": "Shopify webhooks (HMAC signature)."},
    {"name": "admin", "description": "Merchant settings and Smile.io connection (API key)."},
    {"name": "dashboard", "description": "Merchant dashboard (API key)."},
    {"name": "meta", "description": "About the API itself."},
]

SERVERS = [
    {
        "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
        "description": "The deployed HTTP API ($default stage).",
        "variables": {
            "apiId": {"default": "api-id", "description": "The HttpApi id (stack output)."},
            "region": {"default": "us-east-1"},
        },
    },
    {"url": "http://127.0.0.1:3000", "description": "`hub dev` on this machine."},
]


class OpenApiError(RuntimeError):
    """A route of the template that its function does not serve as declared."""


def _version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def _tag(route: HttpRoute) -> str:
    if route.path.startswith("/v1/shops/"):
        return "storefront"
    if route.path.startswith("/v1/webhooks/"):
        return "webhooks"
    if route.path.startswith("/v1/dashboard/"):
        return "dashboard"
    if route.authorizer is not None:
        return "admin"
    return "meta"


def _security(route: HttpRoute) -> list[dict[str, list[str]]]:
    if route.authorizer is not None:
        return [{"MerchantApiKey": []}]
    if route.path.startswith("/v1/shops/"):
        if (route.method, route.path) in SIGNED_BODY:
            return []
        if (route.method, route.path) in OPTIONAL_CUSTOMER_TOKEN:
            return [{"CustomerToken": []}, {}]
        return [{"CustomerToken": []}]
    if route.path.startswith("/v1/webhooks/"):
        return [{"ShopifyWebhookSignature": []}]
    return []


def _path_names(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\+?\}", path)


def _openapi_path(path: str) -> str:
    """Powertools' `<name>` path syntax as OpenAPI's `{name}`."""
    return re.sub(r"<(\w+)>", r"{\1}", path)


def _problem_statuses(route: HttpRoute, operation: dict[str, Any]) -> set[int]:
    statuses = {429, 503} | _EXTRA_PROBLEMS.get((route.method, route.path), set())
    if _security(route):
        statuses.add(401)
    parameters = operation.get("parameters", [])
    if _path_names(route.path):
        statuses.add(404)
    typed_path = any(
        p.get("in") == "path" and p.get("schema", {}).get("type") != "string" for p in parameters
    )
    if "requestBody" in operation or typed_path or any(p.get("in") != "path" for p in parameters):
        statuses.add(422)
    return statuses


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_SCHEMA_REF):
                name = value.removeprefix(_SCHEMA_REF)
                result[key] = _SCHEMA_REF + renames.get(name, name)
            else:
                result[key] = _rewrite_refs(value, renames)
        return result
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_SCHEMA_REF):
                yield value.removeprefix(_SCHEMA_REF)
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _reachable(roots: Any, schemas: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    pending = list(_refs(roots))
    while pending:
        name = pending.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        pending.extend(_refs(schemas[name]))
    return seen


def _renames(
    wanted: set[str], own: dict[str, Any], merged: dict[str, Any], suffix: str
) -> dict[str, str]:
    """New names for a function's schemas that differ from same-named ones already merged
    (renaming one schema can change another that refers to it, hence the fixed point)."""
    renames: dict[str, str] = {}
    for _ in range(len(wanted) + 1):
        found = {
            name: f"{name}_{suffix}"
            for name in wanted
            if name in merged and merged[name] != _rewrite_refs(own[name], renames)
        }
        if found == renames:
            break
        renames = found
    return renames


def _fallback_operation(route: HttpRoute) -> dict[str, Any]:
    """For a route function without a Powertools `app`: its path parameters, loosely."""
    return {
        "summary": f"{route.method} {route.path}",
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_names(route.path)
        ],
        "responses": {"200": {"description": "OK"}},
    }


def _handler_schema(route: HttpRoute, template: Template) -> tuple[dict[str, Any], dict[str, Any]]:
    """(operation, component schemas) of one route as its function's resolver describes it."""
    from hubdev.lambdas import load_module

    module = load_module(template.functions[route.function])
    app = getattr(module, "app", None)
    if app is None or not hasattr(app, "get_openapi_schema"):
        return _fallback_operation(route), {}
    schema = app.get_openapi_schema().model_dump(mode="json", by_alias=True, exclude_none=True)
    paths = {_openapi_path(path): item for path, item in (schema.get("paths") or {}).items()}
    operation = (paths.get(route.path) or {}).get(route.method.lower())
    if operation is None:
        served = sorted(
            f"{method.upper()} {path}"
            for path, item in paths.items()
            for method in item
            if method in _METHODS
        )
        raise OpenApiError(
            f"{route.function} is routed {route.method} {route.path} in template.yaml but its "
            f"app serves {served}"
        )
    summary = (module.__doc__ or "").strip().splitlines()
    if summary and operation.get("summary") == f"{route.method} {route.path}":
        text = summary[0].split(" — ", 1)[-1].strip().rstrip(".")
        operation["summary"] = text[:1].upper() + text[1:]
    return operation, (schema.get("components") or {}).get("schemas") or {}


def _complete(route: HttpRoute, operation: dict[str, Any]) -> dict[str, Any]:
    """Adds what the template and API.md know: security, statuses, path parameters, tag."""
    operation = copy.deepcopy(operation)
    parameters = operation.setdefault("parameters", [])
    declared = {p["name"] for p in parameters if p.get("in") == "path"}
    for name in _path_names(route.path):
        if name not in declared:
            parameters.append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            )
    if not parameters:
        del operation["parameters"]
    operation["tags"] = [_tag(route)]
    operation.setdefault("security", _security(route))

    responses: dict[str, Any] = {
        status: response
        for status, response in operation.get("responses", {}).items()
        if not status.startswith(("4", "5"))
    }
    success = _SUCCESS_STATUS.get((route.method, route.path))
    if success is not None and "200" in responses and str(success) not in responses:
        moved = responses.pop("200")
        if success == 204:
            moved.pop("content", None)
        responses[str(success)] = moved
    for code, response in responses.items():
        if response.get("description") in (None, "", _POWERTOOLS_SUCCESS_DESCRIPTION):
            response["description"] = _SUCCESS_DESCRIPTION.get(int(code), "Success")
    for status in sorted(_problem_statuses(route, operation)):
        responses[str(status)] = {"$ref": f"#/components/responses/{_PROBLEM_RESPONSES[status][0]}"}
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def _problem_components() -> dict[str, Any]:
    responses = {}
    for status, (name, description, slugs) in _PROBLEM_RESPONSES.items():
        response: dict[str, Any] = {
            "description": f"{description} Problem types: "
            + ", ".join(f"`{slug}`" for slug in slugs)
            + ".",
            "content": {"application/problem+json": {"schema": {"$ref": _SCHEMA_REF + "Problem"}}},
        }
        if status in (429, 503):
            response["headers"] = copy.deepcopy(_RETRY_AFTER)
        responses[name] = response
    return responses


def documented_routes(template: Template) -> list[HttpRoute]:
    """Every HttpApi route but CORS preflights (`OPTIONS`, answered by the storefront's
    preflight function): protocol machinery, not operations of the API."""
    return [route for route in template.http_routes if route.method != "OPTIONS"]


def generate(template: Template | None = None) -> dict[str, Any]:
    """The merged OpenAPI 3.1 document of every HttpApi route in template.yaml."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # clients built at import time
    template = template or Template()
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    operation_ids: set[str] = set()
    for route in sorted(
        documented_routes(template), key=lambda r: (r.path, _METHODS.index(r.method.lower()))
    ):
        operation, own_schemas = _handler_schema(route, template)
        wanted = _reachable(operation, own_schemas)
        renames = _renames(
            wanted, own_schemas, schemas, template.functions[route.function].short_name
        )
        operation = _rewrite_refs(operation, renames)
        for name in sorted(wanted):
            schemas.setdefault(renames.get(name, name), _rewrite_refs(own_schemas[name], renames))
        operation = _complete(route, operation)
        operation_id = operation.get("operationId") or route.function
        while operation_id in operation_ids:
            operation_id += "_"
        operation["operationId"] = operation_id
        operation_ids.add(operation_id)
        paths.setdefault(route.path, {})[route.method.lower()] = operation

    for name in _POWERTOOLS_ERROR_SCHEMAS - _reachable(paths, schemas):
        schemas.pop(name, None)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "customer-hub API",
            "version": _version(),
            "summary": "Customer Hub for Shopify stores with Smile.io loyalty.",
            "description": "Storefront hub, Shopify webhooks, merchant admin and dashboard. "
            "JSON in and out; errors are RFC 9457 problem details "
            '(`application/problem+json`). Money is `{"amount": "52.10", "currency": '
            '"USD"}`, times UTC ISO 8601, dates `YYYY-MM-DD` in the merchant\'s time zone.',
        },
        "servers": SERVERS,
        "tags": TAGS,
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "responses": _problem_components(),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def stale(text: str) -> list[Path]:
    """The output files whose content differs from `text`."""
    return [path for path in OUTPUTS if not path.is_file() or path.read_text("utf-8") != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hubdev.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the copies are stale")
    args = parser.parse_args(argv)
    text = render(generate())
    outdated = stale(text)
    if args.check:
        for path in outdated:
            print(f"{path.relative_to(ROOT)} is out of date; run `make openapi`", file=sys.stderr)
        return 1 if outdated else 0
    for path in outdated:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
