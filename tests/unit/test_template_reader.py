"""The local stack reads routes, streams and schedules from template.yaml."""

from __future__ import annotations

from hubdev.aws import Resources
from hubdev.template import Template, _rate_seconds


def test_routes_come_from_the_template() -> None:
    routes = {(r.method, r.path): r for r in Template().http_routes}
    settings = routes[("GET", "/v1/admin/settings")]
    assert settings.function == "GetSettingsFunction"
    assert settings.authorizer == "MerchantApiKey"
    assert Template().authorizers["MerchantApiKey"] == "MerchantAuthorizerFunction"


def test_path_parameters_and_specificity() -> None:
    template = Template(
        {
            "Resources": {
                "A": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {
                        "CodeUri": "functions/a/",
                        "Events": {
                            "E": {
                                "Type": "HttpApi",
                                "Properties": {"Path": "/shops/{id}/hub/{proxy+}", "Method": "get"},
                            }
                        },
                    },
                },
                "B": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {
                        "CodeUri": "functions/b/",
                        "Events": {
                            "E": {
                                "Type": "HttpApi",
                                "Properties": {"Path": "/shops/{id}/hub/loyalty", "Method": "GET"},
                            }
                        },
                    },
                },
            }
        }
    )
    routes = template.http_routes
    assert [r.function for r in routes] == ["B", "A"], "fewer parameters win"
    match = routes[1].pattern.match("/shops/m_1/hub/a/b")
    assert match and match.groupdict() == {"id": "m_1", "proxy": "a/b"}


def test_rate_expressions() -> None:
    assert _rate_seconds("rate(5 minutes)") == 300
    assert _rate_seconds("rate(1 hour)") == 3600


def test_intrinsics_resolve_to_local_resources() -> None:
    resources = Resources(table_names={"DataTable": "hub-local-DataTable"})
    assert resources.resolve({"Ref": "DataTable"}) == "hub-local-DataTable"
    assert resources.resolve({"Fn::Sub": "customer-hub/${Stage}"}, {"Stage": "local"}) == (
        "customer-hub/local"
    )
    assert resources.resolve({"Fn::GetAtt": ["DataTable", "Arn"]}).endswith(
        ":table/hub-local-DataTable"
    )
