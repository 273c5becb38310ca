"""The OpenAPI document: in sync with the handlers, valid 3.1, and covering every route."""

from __future__ import annotations

import json
import re
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from customer_hub.identity import session_signature
from customer_hub.infra import clock
from customer_hub.schemas import ResponseModel
from hubdev import openapi
from hubdev.stack import LocalStack
from hubdev.template import ROOT, HttpRoute, Template
from hubdev.traffic import generate
from tests.support.api import InProcessApi, Reply
from tests.support.hub import send_webhook
from tests.support.scenario import play
from tests.support.storefront import Shop

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
    elif (route.method, route.path) in openapi.SIGNED_BODY:
        assert operation["security"] == [], "the theme's signature is in the body"
        assert "401" in operation["responses"]
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
    signed_body = (route.method, route.path) in openapi.SIGNED_BODY
    assert ("401" in errors) == (bool(operation["security"]) or signed_body)
    assert ("404" in errors) == bool(path_parameters)
    for status, response in errors.items():
        component = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        content = component["content"]["application/problem+json"]
        assert content["schema"] == {"$ref": "#/components/schemas/Problem"}, status


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        kind, name = node["$ref"].removeprefix("#/components/").split("/", 1)
        node = document["components"][kind][name]
    return node


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_success_response_has_a_json_schema_with_its_fields(
    route: HttpRoute, document: dict[str, Any]
) -> None:
    operation = document["paths"][route.path][route.method.lower()]
    successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
    assert len(successes) == 1, successes
    ((status, response),) = successes.items()
    assert response["description"] and response["description"] != "Successful Response"
    if status == "204":
        assert "content" not in response
        return
    assert set(response.get("content", {})) == {"application/json"}, response
    schema = _resolve(document, response["content"]["application/json"].get("schema", {}))
    # A model, not `dict[str, Any]` (an object of anything) or a bare string.
    assert schema.get("type") == "object", schema
    assert schema.get("properties") and schema.get("required"), schema
    assert set(schema["required"]) <= set(schema["properties"])
    assert schema.get("additionalProperties") is not True


def test_api_md_success_statuses_are_declared_by_the_routes(document: dict[str, Any]) -> None:
    for (method, path), status in openapi._SUCCESS_STATUS.items():
        responses = document["paths"][path][method.lower()]["responses"]
        assert str(status) in responses and "200" not in responses, (method, path)


def test_response_models_match_api_md_examples(document: dict[str, Any]) -> None:
    """The bodies API.md shows validate against the published schemas."""
    from jsonschema import Draft202012Validator

    examples = {
        "Loyalty": _api_md_example("`GET /loyalty` → 200:"),
        "Overview": _api_md_example("`GET /v1/dashboard/overview` → 200:"),
    }
    for name, example in examples.items():
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(example)]
        assert not errors, (name, errors)


def _api_md_example(heading: str) -> Any:
    text = (ROOT / ".." / "shared" / "API.md").read_text(encoding="utf-8")
    block = text.split(heading, 1)[1].split("```json", 1)[1].split("```", 1)[0]
    return json.loads(block)


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
    from customer_hub.edge.http import make_app, public_route

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


# ---------------------------------------------------------------- real responses conform


class Conformance:
    """Checks replies of the real handlers against the document: the status is documented
    for the operation, the content type matches, the body validates against its schema."""

    def __init__(self, document: dict[str, Any]) -> None:
        from jsonschema import Draft202012Validator

        self.document = document
        self.validator = Draft202012Validator
        self.routes = [
            (re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", path) + "$"), path)
            for path in document["paths"]
        ]
        self.successes: set[tuple[str, str]] = set()

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        for pattern, template in self.routes:
            if pattern.match(path) and method.lower() in self.document["paths"][template]:
                return template, self.document["paths"][template][method.lower()]
        raise AssertionError(f"{method} {path} is not documented")

    def check(self, method: str, path: str, reply: Reply) -> Any:
        template, operation = self.operation(method, path)
        where = f"{method} {template} → {reply.status}"
        assert str(reply.status) in operation["responses"], (where, reply.body[:300])
        response = _resolve(self.document, operation["responses"][str(reply.status)])
        if reply.status == 204:
            assert not reply.body, where
        else:
            media = reply.content_type.split(";")[0].strip()
            assert media in response.get("content", {}), (where, media)
            schema = {
                **response["content"][media]["schema"],
                "components": self.document["components"],
            }
            validator = self.validator(schema, format_checker=self.validator.FORMAT_CHECKER)
            errors = [
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(reply.json)
            ]
            assert not errors, (where, errors[:5])
        if 200 <= reply.status < 300:
            self.successes.add((method.upper(), template))
        return reply.json


@pytest.fixture
def conformant_api(
    api: InProcessApi, document: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Checked:
    checked = Checked(api, Conformance(document))
    validate = ResponseModel.model_validate.__func__  # type: ignore[attr-defined]

    def recording(cls: type[ResponseModel], obj: Any, **kwargs: Any) -> Any:
        if isinstance(obj, dict):
            checked.domain_bodies.append(obj)
        return validate(cls, obj, **kwargs)

    monkeypatch.setattr(ResponseModel, "model_validate", classmethod(recording))
    return checked


class Checked:
    """The in-process API, every reply checked against the document, and every success body
    checked to be exactly (same keys, order, nulls and numbers) what the domain returned."""

    def __init__(self, api: InProcessApi, conformance: Conformance) -> None:
        self.api = api
        self.conformance = conformance
        self.domain_bodies: list[dict[str, Any]] = []
        self.compared = 0

    def __call__(self, method: str, path: str, status: int, **kwargs: Any) -> Any:
        self.domain_bodies.clear()
        reply = self.api.request(method, path, **kwargs)
        assert reply.status == status, (method, path, reply.status, reply.body[:500])
        body = self.conformance.check(method, path, reply)
        if self.domain_bodies and 200 <= status < 300:
            expected = json.dumps(self.domain_bodies[-1])
            assert json.dumps(body) == expected, (method, path, body, expected)
            self.compared += 1
        return body


def test_real_responses_of_every_route_conform_to_the_document(
    conformant_api: Checked,
    stack: LocalStack,
    shop: Shop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    call = conformant_api
    merchant = shop.merchant
    admin = {"api_key": merchant.api_key}

    # admin: settings, Smile connection and sync
    call("GET", "/v1/admin/settings", 200, **admin)
    call("PATCH", "/v1/admin/settings", 200, json_body={"hub_status": "live"}, **admin)
    call("GET", "/v1/admin/smile/sync", 200, **admin)
    call("PUT", "/v1/admin/smile/connection", 200, json_body={"api_key": shop.api_key}, **admin)
    call("POST", "/v1/admin/smile/sync", 202, **admin)
    stack.drain()
    assert call("GET", "/v1/admin/smile/sync", 200, **admin)["last_success_at"]
    settings = call("GET", "/v1/admin/settings", 200, **admin)
    assert settings["smile"]["last_sync_at"] and settings["launched_at"]

    # storefront: every loyalty state, both kinds of reward, coupons, events
    origin = {"origin": shop.origin}
    loyalty, rewards = shop.path("loyalty"), shop.path("rewards")
    assert call("GET", loyalty, 200, headers=origin)["state"] == "login_required"
    shoppers = {
        "member": shop.shopper(balance=900),
        "join": shop.shopper(balance=0),
        "not_member": shop.shopper(balance=None),
        "excluded": shop.shopper(balance=500, state="disabled"),
    }
    for state, shopper in shoppers.items():
        assert call("GET", loyalty, 200, token=shopper.token)["state"] == state
        assert call("GET", rewards, 200, token=shopper.token)["state"] == state
    member = shoppers["member"].token
    page = call("GET", rewards, 200, token=member)
    kinds = {r["exchange_type"] for r in page["redeemable"] + page["locked"]}
    assert kinds == {"fixed", "variable"} and page["locked"]
    assert call("GET", loyalty, 200, token=member)["best_reward"]["text"]

    redeem = "rewards/{}/redeem"
    for product, body in ((11, {}), (16, {"points_to_spend": 200})):
        headers = {"idempotency-key": str(uuid.uuid4())}
        redeemed = call(
            "POST",
            shop.path(redeem.format(product)),
            201,
            token=member,
            headers=headers,
            json_body=body,
        )
    coupons = call("GET", shop.path("coupons"), 200, token=member)
    assert coupons["applied"], coupons
    coupon_id = redeemed["coupon"]["id"]
    call("POST", shop.path(f"coupons/{coupon_id}/apply"), 200, token=member)
    now = clock.iso(clock.now())
    events = [
        {"id": str(uuid.uuid4()), "type": "order_tracked", "occurred_at": now},
        {"id": str(uuid.uuid4()), "type": "product_clicked", "occurred_at": now, "product_id": "7"},
    ]
    accepted = call("POST", shop.path("events"), 202, token=member, json_body={"events": events})
    assert accepted == {"accepted": 2, "duplicates": 0}

    # webhooks: accepted, duplicate, ignored
    raw = (ROOT / "tests" / "fixtures" / "shopify" / "customers-create.json").read_bytes()
    webhook = f"/v1/webhooks/shopify/{merchant.merchant_id}"
    for topic, outcome in (
        ("customers/create", "accepted"),
        ("customers/create", "duplicate"),
        ("carts/update", "ignored"),
    ):
        reply = send_webhook(conformant_api.api, merchant, topic, raw, webhook_id="wh-conformance")
        assert reply.status == 200
        assert conformant_api.conformance.check("POST", webhook, reply) == {"status": outcome}

    # the dashboard over a few days of generated traffic (touch-points, attributed orders)
    start = clock.now() - timedelta(days=4)
    traffic = generate(seed=5, start=start, days=3, shoppers=6, sessions_per_day=6)
    with pytest.MonkeyPatch.context() as patch:
        play(conformant_api.api, stack, merchant, traffic, patch)
    days = {"period": "last_7_days"}
    for compare in ("previous_period", "previous_year", "none"):
        query = {**days, "compare": compare}
        call("GET", "/v1/dashboard/overview", 200, query=query, **admin)
        call("GET", "/v1/dashboard/service-interactions", 200, query=query, **admin)
        call("GET", "/v1/dashboard/average-order-value", 200, query=query, **admin)
    report = call("GET", "/v1/dashboard/revenue-report", 200, query=days, **admin)
    assert report["lines"], "the generated traffic should attribute some order lines"
    call("GET", "/v1/dashboard/inactive-accounts", 200, query={"days": 1}, **admin)

    # the theme-signed session and the secret Shopify signs webhooks with
    issued = int(clock.now().timestamp())
    signed = {"customer_id": "7001", "email": "ana@example.com", "issued_at": issued}
    signature = session_signature(
        merchant.customer_token_secret, merchant.merchant_id, "7001", issued, "ana@example.com"
    )
    session = call("POST", shop.path("session"), 200, json_body={**signed, "signature": signature})
    assert session["customer_token"] and session["expires_at"]
    call("POST", shop.path("session"), 401, json_body={**signed, "signature": "0" * 64})
    secret = {"secret": merchant.webhook_secret}
    call("PUT", "/v1/admin/shopify/webhook-secret", 204, json_body=secret, **admin)

    call("DELETE", "/v1/admin/smile/connection", 204, **admin)
    rotate = "/v1/admin/credentials/{}/rotate"
    rotated = call("POST", rotate.format("customer_token_secret"), 200, **admin)
    assert rotated["customer_token_secret"] and rotated["api_key"] is None
    assert call("POST", rotate.format("api_key"), 200, **admin)["api_key"]
    call("GET", "/v1/openapi.json", 200)
    # problems are documented too
    call("GET", shop.path("rewards"), 401)
    call("GET", "/v1/dashboard/overview", 422, query={"period": "someday"}, **admin)

    assert conformant_api.compared >= 20
    documented = {(r.method, r.path) for r in ROUTES}
    missed = documented - conformant_api.conformance.successes
    assert not missed, f"add these routes' success to this test: {sorted(missed)}"
