"""What every route's request must be before anything reads it (API.md §Conventions): text
where text is due, a well-formed `merchant_id`, a body of at most 64 KiB of UTF-8 JSON nested
at most 32 deep — whatever the bytes, the answer is a 4xx problem, never a 500."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from customer_hub.problems import NotFound, PayloadTooLarge, validation_error

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
_MERCHANT_ID = re.compile(r"m_[0-9a-f]{16}")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def is_merchant_id(value: object) -> bool:
    """`m_` + 16 lowercase hex digits: anything else names no merchant (404, no lookup)."""
    return isinstance(value, str) and _MERCHANT_ID.fullmatch(value) is not None


def json_depth(text: str) -> int:
    """How deeply the JSON text's arrays and objects nest (strings skipped), without parsing it:
    the parser itself would recurse (RecursionError) on a hostile body."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _text(value: object) -> bool:
    """A string that can be UTF-8 encoded (no lone surrogates) — all API Gateway can send."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if not isinstance(body, str):
        raise validation_error(["body"], "the request body is not text")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise validation_error(["body"], "the request body is not valid base64") from None
    if not _text(body):
        raise validation_error(["body"], "the request body is not UTF-8 encoded JSON")
    return body.encode("utf-8")


def _body_text(raw: bytes) -> str:
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise validation_error(["body"], "the request body is not UTF-8 encoded JSON") from None
    if not text.strip():
        return text
    if json_depth(text) > MAX_JSON_DEPTH:
        msg = f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
        raise validation_error(["body"], msg)
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        raise validation_error(["body"], "the request body is not JSON") from None
    return text


def checked_request(event: dict[str, Any]) -> dict[str, Any]:
    """The request as the handlers may safely read it, or a Problem raised.

    Path parameters must be text and a `merchant_id` must be well formed (404 before any
    lookup); headers, query and cookies must be text; a body must be at most 64 KiB (413) of
    UTF-8 JSON nested at most 32 deep (422). A base64 body (API Gateway's `isBase64Encoded`)
    is decoded: handlers then see the very bytes that were sent (webhook signatures are over
    them). Bodies are JSON whatever the client labelled them (curl -d says form-urlencoded).
    """
    parameters = event.get("pathParameters") or {}
    if not isinstance(parameters, dict) or not all(_text(v) for v in parameters.values()):
        raise NotFound("No such resource.")
    if "merchant_id" in parameters and not is_merchant_id(parameters["merchant_id"]):
        raise NotFound("No such merchant.")
    for part in ("headers", "queryStringParameters"):
        values = event.get(part) or {}
        if not isinstance(values, dict) or not all(
            _text(k) and _text(v) for k, v in values.items()
        ):
            raise validation_error([part], "the request has malformed text")
    if not all(_text(c) for c in event.get("cookies") or []):
        raise validation_error(["cookies"], "the request has malformed text")
    headers = dict(event.get("headers") or {})
    content_type = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), "")
    if content_type and "json" not in content_type.lower():
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        headers["content-type"] = "application/json"
    if event.get("body") in (None, ""):
        return {**event, "headers": headers}
    text = _body_text(_body_bytes(event))
    if text.strip() and "json" not in content_type.lower():
        headers["content-type"] = "application/json"
    return {**event, "headers": headers, "body": text, "isBase64Encoded": False}


NOT_AN_OBJECT = "the body must be a JSON object"


def object_body(request: dict[str, Any], absent: str | None) -> dict[str, Any]:
    """The request whose body is a JSON object: an absent (or blank) one stands for `absent`
    (422 without it); an array, string, number or `null` is a 422 at `body` (Powertools would
    otherwise validate a one-element array's element as the body)."""
    body = request.get("body")
    if not isinstance(body, str) or not body.strip():
        if absent is None:
            raise validation_error(["body"], NOT_AN_OBJECT)
        return {**request, "body": absent, "isBase64Encoded": False}
    if not isinstance(json.loads(body), dict):  # JSON, nested at most 32 deep: checked_request
        raise validation_error(["body"], NOT_AN_OBJECT)
    return request
