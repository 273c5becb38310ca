"""Static check of the deployed IAM, read from template.yaml as CloudFormation receives it.

The SAM template is translated to plain CloudFormation with the SAM translator (`hubdev.iam`),
so the check reads the roles SAM really creates — the managed policies it attaches included
(their vendored documents) — not only the statements written in template.yaml.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from hubdev import iam
from hubdev.template import Template

TEMPLATE = Template()
ROLES = iam.DeployedRoles(TEMPLATE)
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
XRAY = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
# What SAM attaches to every role it generates (Tracing: Active). Accepted for functions with no
# event source: Lambda writes their logs with it, X-Ray has no resource-level permissions.
SAM_BASELINE = {BASIC, XRAY}
# The managed policies of event source polling: Resource "*" on every stream / queue.
POLLING_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_function_roles_have_no_wildcard_actions_or_resources(figures: Counter[str]) -> None:
    findings, accepted, statements = [], 0, 0
    for function, role in ROLES.roles.items():
        unexpected = set(role.managed) - SAM_BASELINE
        if unexpected:
            findings.append(f"{function}: managed policies {sorted(unexpected)}")
        for statement in role.statements:
            statements += 1
            actions = [str(a) for a in _as_list(statement.get("Action", []))]
            wildcard = any("*" in a for a in actions) or "NotAction" in statement
            wildcard |= "*" in _as_list(statement.get("Resource", [])) or "NotResource" in statement
            if not wildcard:
                continue
            if statement["Sid"] in (f"managed {BASIC}", f"managed {XRAY}"):
                accepted += 1  # SAM's baseline of a generated role (see SAM_BASELINE)
            elif all(a.startswith("xray:Put") for a in actions):
                accepted += 1  # X-Ray trace segments: no resource-level permissions exist
            else:
                findings.append(f"{function} ({statement['Sid']}): {statement}")
    figures["IAM statements checked (translated template, managed policies expanded)"] += statements
    figures["IAM wildcard findings"] += len(findings)
    assert statements > len(ROLES.roles)
    assert not findings, "\n".join(findings)


def test_stream_and_queue_consumers_poll_only_their_own_source() -> None:
    """No SAM managed execution policy on an event source consumer: explicit statements that
    allow its stream / queue and OnFailure destination, and nothing of any other."""
    stream = "arn:aws:dynamodb:us-east-1:123456789012:table/{}/stream/" + iam.STREAM_LABEL
    queue = "arn:aws:sqs:us-east-1:123456789012:{}"
    consumers = {s.function for s in TEMPLATE.stream_sources + TEMPLATE.queue_sources}
    assert consumers
    for function in consumers:
        managed = set(ROLES.roles[function].managed)
        assert not managed & POLLING_POLICIES, (function, managed)
    for source in TEMPLATE.stream_sources:
        for action in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"):
            own = iam.Request(f"dynamodb:{action}", stream.format(source.table))
            other = iam.Request(f"dynamodb:{action}", stream.format("SomeOtherTable"))
            assert ROLES.allows(source.function, own), (source.function, own)
            assert not ROLES.allows(source.function, other), (source.function, other)
        if source.on_failure:
            send = iam.Request("sqs:SendMessage", queue.format(source.on_failure))
            assert ROLES.allows(source.function, send), (source.function, send)
            other_queue = iam.Request("sqs:SendMessage", queue.format("SomeOtherQueue"))
            assert not ROLES.allows(source.function, other_queue)
    for source in TEMPLATE.queue_sources:
        for action in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes"):
            own = iam.Request(f"sqs:{action}", queue.format(source.queue))
            assert ROLES.allows(source.function, own), (source.function, own)
            other = iam.Request(f"sqs:{action}", queue.format("SomeOtherQueue"))
            assert not ROLES.allows(source.function, other), (source.function, other)


@pytest.mark.parametrize(
    ("function", "kind", "allowed"),
    [
        ("PostEventsFunction", "credentials", True),
        ("PostEventsFunction", "smile", False),
        ("ShopifyWebhookFunction", "smile", False),
        ("SmileSyncWorkerFunction", "credentials", False),
        ("SmileSyncWorkerFunction", "smile", True),
        ("GetLoyaltyFunction", "smile", True),
        ("GetLoyaltyFunction", "anything-else", False),
    ],
)
def test_secrets_are_narrowed_to_the_kind_each_function_reads(
    function: str, kind: str, allowed: bool
) -> None:
    name = f"customer-hub/local/merchants/m_0123456789abcdef/{kind}"
    request = iam.Request("secretsmanager:GetSecretValue", iam.Names.secret(name))
    assert ROLES.allows(function, request) is allowed


def test_every_function_role_is_its_own() -> None:
    resources = ROLES.cfn["Resources"]
    role_refs = [
        str(v["Properties"]["Role"])
        for v in resources.values()
        if v["Type"] == "AWS::Lambda::Function"
    ]
    assert len(role_refs) == len(set(role_refs)), "no two functions share a role"
