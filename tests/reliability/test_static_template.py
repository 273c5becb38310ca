"""Static check of the deployed IAM: no wildcard action or resource in any function policy.

The SAM template is translated to plain CloudFormation with the SAM translator, so the check
reads the roles SAM really creates, not only the statements written in template.yaml.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from samtranslator.translator.transform import transform

from hubdev.template import Template


class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs; the template names none by short name."""

    def load(self) -> dict[str, str]:
        return {}


def _translated() -> dict[str, Any]:
    import copy
    import os
    from unittest import mock

    document = copy.deepcopy(Template().document)
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        for uri in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(uri), str):
                properties[uri] = "s3://packaged/" + properties[uri].strip("/")  # as after upload
    parameters = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": "us-east-1"}):
        return transform(  # type: ignore[no-any-return]
            document,
            parameters,
            _NoManagedPolicies(),  # type: ignore[arg-type]
        )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_function_roles_have_no_wildcard_actions_or_resources(figures: Counter[str]) -> None:
    resources = _translated()["Resources"]
    roles = {k: v for k, v in resources.items() if v["Type"] == "AWS::IAM::Role"}
    functions = [v for v in resources.values() if v["Type"] == "AWS::Lambda::Function"]
    assert len(roles) >= len(functions) > 0, "every function gets a role of its own"
    findings = []
    statements = 0
    for name, role in roles.items():
        for policy in role["Properties"].get("Policies", []):
            for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                statements += 1
                for action in _as_list(statement.get("Action", [])):
                    if "*" in str(action):
                        findings.append(f"{name}: action {action}")
                for resource in _as_list(statement.get("Resource", [])):
                    if resource == "*" or (isinstance(resource, str) and resource.endswith(":*")):
                        findings.append(f"{name}: resource {resource}")
    figures["IAM statements checked"] += statements
    figures["IAM wildcard findings"] += len(findings)
    assert not findings, findings


def test_every_function_role_is_its_own() -> None:
    resources = _translated()["Resources"]
    role_refs = [
        str(v["Properties"]["Role"])
        for v in resources.values()
        if v["Type"] == "AWS::Lambda::Function"
    ]
    assert len(role_refs) == len(set(role_refs)), "no two functions share a role"
