"""The IAM-by-use check itself: calls → IAM requests, statements evaluated as IAM does."""

from __future__ import annotations

from typing import Any

import pytest

from hubdev import iam
from hubdev.template import Template

NAMES = iam.Names(["DataTable", "EventsTable", "SmileSyncQueue", "T"])
ACCOUNT_REGION = "us-east-1:123456789012"


def _record(service: str, operation: str, **names: Any) -> iam.Record:
    return {"function": "F", "service": service, "operation": operation, "names": names}


def test_calls_become_one_request_per_table_with_the_action_iam_checks() -> None:
    batch = _record("dynamodb", "BatchWriteItem", RequestItems=["hub-local-DataTable", "x-T"])
    assert [(r.action, r.resource) for r in iam.requirements(batch, NAMES)] == [
        ("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{ACCOUNT_REGION}:table/DataTable"),
        ("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{ACCOUNT_REGION}:table/T"),
    ]
    transaction = _record(
        "dynamodb",
        "TransactWriteItems",
        TransactItems=[["Put", "hub-local-EventsTable"], ["ConditionCheck", "hub-local-DataTable"]],
    )
    assert [r.action for r in iam.requirements(transaction, NAMES)] == [
        "dynamodb:PutItem",
        "dynamodb:ConditionCheckItem",
    ]
    query = _record("dynamodb", "Query", TableName="chub-samlocal-DataTable", IndexName="gsi1")
    assert iam.requirements(query, NAMES)[0].resource.endswith(":table/DataTable/index/gsi1")
    records = _record(
        "dynamodb",
        "GetRecords",
        ShardIterator="arn:aws:dynamodb:us-east-1:123456789012:table/hub-local-EventsTable/stream/2026-01-01T00:00:00.000",
    )
    assert iam.requirements(records, NAMES)[0].resource.endswith(
        ":table/EventsTable/stream/" + iam.STREAM_LABEL
    )
    send = _record(
        "sqs",
        "SendMessageBatch",
        QueueUrl="http://127.0.0.1:5000/123456789012/hub-local-SmileSyncQueue.fifo",
    )
    assert iam.requirements(send, NAMES) == [
        iam.Request("sqs:SendMessage", f"arn:aws:sqs:{ACCOUNT_REGION}:SmileSyncQueue")
    ]
    secret = _record("secretsmanager", "GetSecretValue", SecretId="customer-hub/local/m/x/smile")
    assert iam.requirements(secret, NAMES)[0].resource == (
        f"arn:aws:secretsmanager:{ACCOUNT_REGION}:secret:customer-hub/local/m/x/smile-"
        + iam.SECRET_SUFFIX
    )


def _template(statements: list[dict[str, Any]], **function: Any) -> Template:
    return Template(
        {
            "Transform": "AWS::Serverless-2016-10-31",
            "Resources": {
                "T": {
                    "Type": "AWS::DynamoDB::Table",
                    "Properties": {
                        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    },
                },
                "F": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {
                        "CodeUri": "functions/f/",
                        "Handler": "app.handler",
                        "Runtime": "python3.13",
                        "Policies": [{"Statement": statements}],
                        **function,
                    },
                },
            },
        }
    )


def _check(roles: iam.DeployedRoles, operation: str, **names: Any) -> list[str]:
    return [d.message for d in roles.check([(_record("dynamodb", operation, **names), 1)]).denials]


def test_statements_are_evaluated_as_iam_does() -> None:
    roles = iam.DeployedRoles(
        _template(
            [
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:Get*",
                    "Resource": {"Fn::GetAtt": ["T", "Arn"]},
                },
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:Query"],
                    "Resource": {"Fn::Sub": "${T.Arn}/index/*"},
                },
                {"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": "*:table/Nope"},
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:DeleteItem",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}},
                },
            ]
        )
    )
    assert _check(roles, "GetItem", TableName="hub-local-T") == []  # action wildcard
    assert _check(roles, "Query", TableName="hub-local-T", IndexName="byEmail") == []
    (denied,) = _check(roles, "Query", TableName="hub-local-T")  # the index, not the table
    assert "called dynamodb:Query on arn:aws:dynamodb:us-east-1:123456789012:table/T " in denied
    (denied,) = _check(roles, "PutItem", TableName="hub-local-T")
    assert "Add to F's Policies in template.yaml" in denied
    assert "Action: [dynamodb:PutItem]" in denied and "Resource: !GetAtt T.Arn" in denied
    assert _check(roles, "DeleteItem", TableName="hub-local-T"), "a Condition never allows"
    # SAM's generated role carries the managed basic execution policy: logs anywhere.
    logs = iam.Request("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:x")
    assert roles.allows("F", logs)


def test_explicit_deny_wins() -> None:
    roles = iam.DeployedRoles(
        _template(
            [
                {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"},
            ]
        )
    )
    assert _check(roles, "GetItem", TableName="T") == []
    assert _check(roles, "DeleteItem", TableName="T")


def test_a_managed_policy_that_is_not_vendored_is_named() -> None:
    template = _template([])
    template.document["Resources"]["F"]["Properties"]["Policies"] = ["AmazonS3FullAccess"]
    with pytest.raises(ValueError, match="not vendored"):
        iam.DeployedRoles(template)


def test_every_function_of_the_template_has_its_deployed_role_checked() -> None:
    roles = iam.DeployedRoles()
    assert set(roles.roles) == set(Template().functions)
    data_table = f"arn:aws:dynamodb:{ACCOUNT_REGION}:table/DataTable"
    # The first sync with new customers writes the id → email index in batches (smile/sync.py).
    assert roles.allows(
        "SmileSyncWorkerFunction", iam.Request("dynamodb:BatchWriteItem", data_table)
    )


def test_container_log_records_interleaved_by_threads_are_all_read() -> None:
    """A function's threads (the sync's overlapping reads and writes) print at once: two records
    can share a line, and a record can follow other output on its line."""
    first = '{"service":"dynamodb","operation":"PutItem","names":{"TableName":"T"}}'
    second = '{"service":"dynamodb","operation":"UpdateItem","names":{"TableName":"T"}}'
    text = f"START\nCHUB_AWS_CALL {first}CHUB_AWS_CALL {second}\n\nlog line CHUB_AWS_CALL {first}\n"
    records = iam.parse_container_log("SyncFunction", text)
    assert [r["operation"] for r in records] == ["PutItem", "UpdateItem", "PutItem"]
    assert all(r["function"] == "SyncFunction" for r in records)
