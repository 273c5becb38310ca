"""The AWS emulation: moto in server mode on 127.0.0.1, resources created from template.yaml."""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3

from hubdev.template import Template

REGION = "us-east-1"
ACCOUNT = "123456789012"
STAGE = "local"

# Fake credentials for the emulation only; boto3 refuses to sign without some.
LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_DYNAMODB_LOCK = threading.RLock()


def _serialise_dynamodb() -> None:
    """One DynamoDB call at a time in moto: its UpdateItem stores a key-only item before it
    applies the update, so a concurrent Query could read an item DynamoDB never shows (the
    reliability suite's parallel redemptions found it). Real DynamoDB writes items atomically."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_serialised", False):
        return
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _DYNAMODB_LOCK:
            return original(self)

    call_action._serialised = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def start_moto(port: int = 0) -> tuple[Any, str]:
    """Start moto's threaded server on 127.0.0.1; returns (server, endpoint URL)."""
    from moto.server import ThreadedMotoServer

    _serialise_dynamodb()
    port = port or free_port()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


@dataclass
class Resources:
    """Physical names and ARNs of the template's resources in the emulation."""

    table_names: dict[str, str] = field(default_factory=dict)
    stream_arns: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)

    def ref(self, logical_id: str) -> str:
        if logical_id in self.table_names:
            return self.table_names[logical_id]
        if logical_id in self.queue_urls:
            return self.queue_urls[logical_id]
        return {
            "Stage": STAGE,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": "customer-hub-local",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
        }.get(logical_id, logical_id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "StreamArn":
            return self.stream_arns[logical_id]
        if attribute == "Arn" and logical_id in self.queue_arns:
            return self.queue_arns[logical_id]
        if attribute == "Arn" and logical_id in self.table_names:
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.table_names[logical_id]}"
        if attribute == "QueueName" and logical_id in self.queue_urls:
            return self.queue_urls[logical_id].rsplit("/", 1)[-1]
        return f"arn:aws:local:{REGION}:{ACCOUNT}:{logical_id}"

    def resolve(self, value: Any, parameters: dict[str, str] | None = None) -> Any:
        """Resolve Ref / GetAtt / Sub / Join against the emulation's resources."""
        parameters = parameters or {}
        if isinstance(value, dict) and len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref":
                return parameters.get(arg, self.ref(arg))
            if name == "Fn::GetAtt":
                return self.get_att(arg[0], arg[1])
            if name == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

                def substitute(match: Any) -> str:
                    token = match.group(1)
                    if token in extra:
                        return str(self.resolve(extra[token], parameters))
                    if "." in token:
                        return self.get_att(*token.split(".", 1))
                    return str(parameters.get(token, self.ref(token)))

                import re

                return re.sub(r"\$\{([^}]+)\}", substitute, text)
            if name == "Fn::Join":
                return str(arg[0]).join(str(self.resolve(v, parameters)) for v in arg[1])
        return value


def template_parameters(template: Template) -> dict[str, str]:
    defaults = {
        name: str(spec.get("Default", ""))
        for name, spec in template.document.get("Parameters", {}).items()
    }
    defaults["Stage"] = STAGE
    return defaults


def create_resources(template: Template, endpoint: str, prefix: str = "hub-local") -> Resources:
    """Create every table (keys, indexes, stream, TTL) and queue of the template."""
    session = boto3.session.Session(
        aws_access_key_id=LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    resources = Resources()
    for logical_id, props in template.tables.items():
        name = f"{prefix}-{logical_id}"
        args: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        described = dynamodb.create_table(**args)["TableDescription"]
        if "LatestStreamArn" in described:
            resources.stream_arns[logical_id] = described["LatestStreamArn"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        resources.table_names[logical_id] = name
    for logical_id, props in template.queues.items():
        fifo = bool(props.get("FifoQueue"))
        name = f"{prefix}-{logical_id}" + (".fifo" if fifo else "")
        attributes = {
            k: str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in props.items()
            if k
            in (
                "FifoQueue",
                "ContentBasedDeduplication",
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "DelaySeconds",
            )
        }
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
        resources.queue_urls[logical_id] = url
        resources.queue_arns[logical_id] = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
    return resources


def function_environment(template: Template, resources: Resources) -> dict[str, str]:
    """The union of every function's resolved environment variables."""
    parameters = template_parameters(template)
    env: dict[str, str] = {}
    for function in template.functions.values():
        for name, value in function.environment.items():
            env[name] = str(resources.resolve(value, parameters))
    env.pop("POWERTOOLS_SERVICE_NAME", None)
    return env


def apply_environment(endpoint: str, env: dict[str, str]) -> None:
    os.environ.update(LOCAL_AWS_ENV)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    for name, value in env.items():
        if name == "SMILE_API_BASE_URL" and os.environ.get(name):
            continue
        os.environ[name] = value
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "customer-hub")
    from customer_hub.config import config

    config.cache_clear()
