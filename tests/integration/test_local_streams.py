"""The local stack delivers DynamoDB streams as Lambda does: partial failures retried in order."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator

import boto3
import pytest

from hubdev.lambdas import Runtime
from hubdev.pumps import StreamPump
from hubdev.stack import LocalStack
from hubdev.template import Template

FLAKY = {
    "Type": "AWS::Serverless::Function",
    "Properties": {
        "CodeUri": "tests/support/functions/flaky_stream/",
        "Events": {
            "Stream": {
                "Type": "DynamoDB",
                "Properties": {
                    "Stream": {"Fn::GetAtt": ["EventsTable", "StreamArn"]},
                    "StartingPosition": "TRIM_HORIZON",
                    "BatchSize": 10,
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    "BisectBatchOnFunctionError": True,
                    "MaximumRetryAttempts": 3,
                },
            }
        },
    },
}


@pytest.fixture(scope="module")
def flaky_stack(stack: LocalStack) -> Iterator[LocalStack]:
    """The session's stack with one more stream consumer on the events table."""
    resources = copy.deepcopy(Template().document["Resources"])
    resources["FlakyStreamFunction"] = FLAKY
    template = Template({"Resources": resources})
    source = next(s for s in template.stream_sources if s.function == "FlakyStreamFunction")
    runtime = Runtime(template.functions)
    streams = boto3.client("dynamodbstreams", endpoint_url=stack.endpoint)
    pump = StreamPump(source, stack.resources, runtime, streams, stack.sqs)
    # Start after what earlier tests wrote, so batch boundaries fall on this test's records.
    pump._read()
    stack.stream_pumps.append(pump)
    yield stack
    stack.stream_pumps.remove(pump)
    sys.modules.pop("hubfn_flaky_stream", None)


def _flaky_pump(stack: LocalStack) -> StreamPump:
    return next(p for p in stack.stream_pumps if p.source.function == "FlakyStreamFunction")


def test_failing_record_is_retried_without_blocking_its_batch(flaky_stack: LocalStack) -> None:
    table = flaky_stack.resources.table_names["EventsTable"]
    dynamodb = boto3.client("dynamodb", endpoint_url=flaky_stack.endpoint)
    names = [f"r{i:02d}" for i in range(8)]
    for name in names:
        fail_times = {"r03": 2, "r06": 1}.get(name, 0)
        dynamodb.put_item(
            TableName=table,
            Item={"pk": {"S": "T"}, "sk": {"S": name}, "fail_times": {"N": str(fail_times)}},
        )
    flaky_stack.drain()
    module = sys.modules["hubfn_flaky_stream"]
    assert sorted(set(module.processed)) == names, "every record is eventually processed"
    assert module.attempts["r03"] == 3 and module.attempts["r06"] >= 2
    first_pass = module.processed[: module.processed.index("r07") + 1]
    assert "r03" not in first_pass, "the failed record did not hold back those after it"
    assert _flaky_pump(flaky_stack).parked == 0


def test_a_record_that_always_fails_is_parked_and_the_rest_goes_on(
    flaky_stack: LocalStack,
) -> None:
    table = flaky_stack.resources.table_names["EventsTable"]
    dynamodb = boto3.client("dynamodb", endpoint_url=flaky_stack.endpoint)
    module = sys.modules["hubfn_flaky_stream"]
    for name, fail_times in (("p1", 0), ("poison", 99), ("p2", 0)):
        dynamodb.put_item(
            TableName=table,
            Item={"pk": {"S": "T"}, "sk": {"S": name}, "fail_times": {"N": str(fail_times)}},
        )
    flaky_stack.drain()
    assert "p1" in module.processed and "p2" in module.processed
    assert "poison" not in module.processed
    assert module.attempts["poison"] == 4, "first try plus MaximumRetryAttempts"
    assert _flaky_pump(flaky_stack).parked >= 1
