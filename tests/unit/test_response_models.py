"""Response models (customer_hub.schemas) and how the HTTP edge uses them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import ResponseValidationError
from pydantic import ValidationError

from customer_hub import money
from customer_hub.edge.http import make_app
from customer_hub.loyalty import view as loyalty
from customer_hub.loyalty.snapshots import CustomerSnapshot, Program
from customer_hub.schemas.admin import Settings, WebhookReceipt
from customer_hub.schemas.coupons import Redeemed
from customer_hub.schemas.dashboard import ServiceTotals
from customer_hub.schemas.loyalty import Loyalty, Rewards
from hubdev import smile_demo
from hubdev.events import http_event


class LambdaContextStub:
    function_name = "test"
    aws_request_id = "req"


def _resolve(app: Any, method: str, path: str) -> dict[str, Any]:
    result: dict[str, Any] = app.resolve(http_event(method, path), LambdaContextStub())
    return result


def _program() -> Program:
    return Program.model_validate(
        {
            "points_label": smile_demo.POINTS_LABEL,
            "points_products": smile_demo.points_products(),
            "synced_at": "2026-11-23T10:00:00Z",
        }
    )


def _customer(balance: int) -> CustomerSnapshot:
    return CustomerSnapshot(
        smile_customer_id=1,
        email="a@example.com",
        state="member",
        points_balance=balance,
        referral_url="https://i.refs.cc/abc",
        updated_at="2026-11-23T10:00:00Z",
        synced_at="2026-11-23T10:00:00Z",
    )


LIVE = {"hub_status": "live"}


@pytest.mark.parametrize("balance", [0, 120, 900, 10_000])
def test_loyalty_and_rewards_bodies_serialize_exactly_as_the_domain_builds_them(
    balance: int,
) -> None:
    program, customer = _program(), _customer(balance)
    state = loyalty.state_of(True, customer)
    for body, model in (
        # GET /loyalty adds the merchant's hub_status to the shopper's loyalty body
        ({**loyalty.loyalty_json(state, program, customer, 2, "USD"), **LIVE}, Loyalty),
        ({**loyalty.loyalty_json("login_required", program, None, 0, "USD"), **LIVE}, Loyalty),
        (
            loyalty.rewards_json(state, program, customer, {"applied": [], "available": []}, "USD"),
            Rewards,
        ),
    ):
        dumped = model.model_validate(body).model_dump(mode="json")
        assert json.dumps(dumped) == json.dumps(body)


def test_a_field_the_model_does_not_declare_is_an_error_not_dropped() -> None:
    body = {"status": "accepted", "extra": 1}
    with pytest.raises(ValidationError, match="extra"):
        WebhookReceipt.model_validate(body)
    assert "additionalProperties" not in WebhookReceipt.model_json_schema()


def test_service_totals_name_every_service_interaction() -> None:
    from customer_hub.metrics.hub_events import SERVICE_INTERACTIONS

    assert tuple(ServiceTotals.model_fields) == SERVICE_INTERACTIONS


def test_the_route_status_and_model_shape_the_response() -> None:
    app = make_app()

    @app.post("/v1/t/redeem", status_code=201)
    def redeem() -> Response[Redeemed]:
        body = {
            "coupon": {
                "id": 5,
                "code": None,
                "name": "$5 off",
                "status": "pending",
                "image_url": None,
                "usage_instructions": None,
                "expires_at": None,
                "applied_at": None,
            },
            "points_balance": 250,
            "apply_url": None,
        }
        return Response(201, "application/json", Redeemed.model_validate(body))

    response = _resolve(app, "POST", "/v1/t/redeem")
    assert response["statusCode"] == 201
    body = json.loads(response["body"])
    assert body["coupon"]["code"] is None and body["apply_url"] is None
    assert list(body) == ["coupon", "points_balance", "apply_url"]


def test_a_body_that_breaks_its_model_fails_the_invocation_instead_of_a_422() -> None:
    app = make_app()

    @app.get("/v1/t/settings")
    def settings() -> Settings:
        return {"name": "no merchant id"}  # type: ignore[return-value]

    with pytest.raises(ResponseValidationError):
        _resolve(app, "GET", "/v1/t/settings")


def test_money_is_the_documented_money() -> None:
    from customer_hub.schemas import Money

    assert Money.model_validate(money.to_json(5210, "USD")).model_dump() == {
        "amount": "52.10",
        "currency": "USD",
    }
    with pytest.raises(ValidationError):
        Money.model_validate({"amount": "52,10", "currency": "USD"})
