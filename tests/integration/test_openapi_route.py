"""GET /v1/openapi.json: public, served by its own function from the shipped copy."""

from __future__ import annotations

import json

from hubdev.template import ROOT
from tests.support.api import InProcessApi


def test_the_document_is_public_and_is_the_checked_in_copy(api: InProcessApi) -> None:
    reply = api.get("/v1/openapi.json")
    assert reply.status == 200
    assert reply.content_type.startswith("application/json")
    checked_in = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert reply.json == checked_in
    assert "/v1/openapi.json" in reply.json["paths"]


def test_a_merchant_key_is_not_needed_nor_harmful(api: InProcessApi) -> None:
    assert api.get("/v1/openapi.json", api_key="chk_not-a-key").status == 200
