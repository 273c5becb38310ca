"""The OpenAPI document: in sync with the handlers, valid 3.1, and covering every route."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from hubdev import openapi
from hubdev.template import ROOT, HttpRoute, Template

ROUTES = openapi.documented_routes(Template())


@pytest.fixture(scope="module")
def fresh_text() -> str:
    return openapi.render(openapi.generate())


@pytest.fixture(scope="module")
def document(fresh_text: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(fresh_text)
    return parsed


def _path_names(path: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\+?\}", path))


def test_checked_in_copies_match_a_fresh_generation(fresh_text: str) -> None:
    for path in (ROOT / "docs" / "openapi.json", ROOT / "functions/get_openapi/openapi.json"):
        assert path.read_text(encoding="utf-8") == fresh_text, (
            f"{path.relative_to(ROOT)} is out of date with the handlers: run `make openapi`"
        )


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"]


def test_every_template_route_is_documented_and_nothing_else(document: dict[str, Any]) -> None:
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert documented == {(route.method, route.path) for route in ROUTES}


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_route_parameters_security_and_problem_responses(
    route: HttpRoute, document: dict[str, Any]
) -> None:
    operation = document["paths"][route.path][route.method.lower()]
    path_parameters = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
    assert set(path_parameters) == _path_names(route.path)
    assert all(p["required"] for p in path_parameters.values())

    if route.authorizer == "MerchantApiKey":
        assert operation["security"] == [{"MerchantApiKey": []}]
    elif route.path.startswith("/v1/shops/"):
        assert {"CustomerToken": []} in operation["security"]
    elif route.path.startswith("/v1/webhooks/"):
        assert operation["security"] == [{"ShopifyWebhookSignature": []}]
    else:
        assert operation["security"] == []

    responses = operation["responses"]
    assert any(status.startswith("2") for status in responses)
    errors = {status: response for status, response in responses.items() if status >= "400"}
    assert "429" in errors
    assert ("401" in errors) == bool(operation["security"])
    assert ("404" in errors) == bool(path_parameters)
    for status, response in errors.items():
        component = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        content = component["content"]["application/problem+json"]
        assert content["schema"] == {"$ref": "#/components/schemas/Problem"}, status


def test_request_bodies_reference_their_models(document: dict[str, Any]) -> None:
    patch = document["paths"]["/v1/admin/settings"]["patch"]
    schema = patch["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/SettingsPatch"}
    model = document["components"]["schemas"]["SettingsPatch"]
    assert model["additionalProperties"] is False
    assert {"timezone", "cart_window_hours", "hub_status"} <= set(model["properties"])
    assert "422" in patch["responses"]
    assert "422" not in document["paths"]["/v1/admin/settings"]["get"]["responses"]


def test_every_schema_reference_resolves(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    for kind, name in re.findall(r'"#/components/(\w+)/([^"]+)"', text):
        assert name in document["components"][kind], (kind, name)
    assert "HTTPValidationError" not in document["components"]["schemas"]


# ---------------------------------------------------------------- the generator itself


def _function(folder: Path, name: str, source: str) -> str:
    (folder / name).mkdir()
    (folder / name / "app.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return str(folder / name)


def _template(routes: dict[str, tuple[str, str, str, str | None]]) -> Template:
    resources: dict[str, Any] = {
        "HttpApi": {"Type": "AWS::Serverless::HttpApi", "Properties": {}},
    }
    for logical_id, (code_uri, method, path, authorizer) in routes.items():
        event: dict[str, Any] = {"Path": path, "Method": method}
        if authorizer:
            event["Auth"] = {"Authorizer": authorizer}
        resources[logical_id] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": code_uri,
                "Events": {"Api": {"Type": "HttpApi", "Properties": event}},
            },
        }
    return Template({"Resources": resources})


_ITEM_APP = """
    from typing import Annotated, Any
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.event_handler.openapi.params import Body, Query
    from pydantic import BaseModel
    from customer_hub.http import make_app, public_route

    class Item(BaseModel):
        {field}

    class Basket(BaseModel):
        items: list[Item]

    app = make_app()

    @app.post("{path}")
    def create(
        merchant_id: str,
        basket: Annotated[Basket, Body(embed=False)],
        dry_run: Annotated[bool, Query()] = False,
    ) -> dict[str, Any]:
        return {{}}

    handler = public_route(app, Logger())
"""


def test_new_routes_are_merged_and_clashing_model_names_kept_apart(tmp_path: Path) -> None:
    first = _function(
        tmp_path,
        "oa_probe_first",
        _ITEM_APP.format(field="sku: str", path="/v1/shops/<merchant_id>/hub/first"),
    )
    second = _function(
        tmp_path,
        "oa_probe_second",
        _ITEM_APP.format(field="quantity: int", path="/v1/webhooks/shopify/<merchant_id>"),
    )
    bare = _function(tmp_path, "oa_probe_bare", "def handler(event, context):\n    return {}\n")
    template = _template(
        {
            "FirstFunction": (first, "POST", "/v1/shops/{merchant_id}/hub/first", None),
            "SecondFunction": (second, "POST", "/v1/webhooks/shopify/{merchant_id}", None),
            "BareFunction": (bare, "GET", "/v1/admin/things/{thing_id}", "MerchantApiKey"),
        }
    )
    document = openapi.generate(template)
    validate(document)
    schemas = document["components"]["schemas"]

    first_op = document["paths"]["/v1/shops/{merchant_id}/hub/first"]["post"]
    second_op = document["paths"]["/v1/webhooks/shopify/{merchant_id}"]["post"]
    first_item = schemas["Basket"]["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[1]
    second_basket = second_op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    second_basket_schema = schemas[second_basket.rsplit("/", 1)[1]]
    second_item = second_basket_schema["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[1]
    assert "sku" in schemas[first_item]["properties"]
    assert "quantity" in schemas[second_item]["properties"]
    assert first_item != second_item

    assert first_op["security"] == [{"CustomerToken": []}]
    assert {p["name"]: p["in"] for p in first_op["parameters"]} == {
        "merchant_id": "path",
        "dry_run": "query",
    }
    assert {"401", "404", "422", "429"} <= set(first_op["responses"])
    assert second_op["security"] == [{"ShopifyWebhookSignature": []}]

    bare_op = document["paths"]["/v1/admin/things/{thing_id}"]["get"]
    assert bare_op["security"] == [{"MerchantApiKey": []}]
    assert bare_op["parameters"] == [
        {"name": "thing_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]


def test_a_route_its_function_does_not_serve_is_an_error(tmp_path: Path) -> None:
    code = _function(
        tmp_path,
        "oa_probe_wrong",
        _ITEM_APP.format(field="sku: str", path="/v1/shops/<merchant_id>/hub/elsewhere"),
    )
    template = _template({"WrongFunction": (code, "POST", "/v1/shops/{merchant_id}/hub/x", None)})
    with pytest.raises(openapi.OpenApiError, match="elsewhere"):
        openapi.generate(template)
