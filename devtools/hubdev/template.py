"""Reads template.yaml: the one description of tables, queues, functions, routes and schedules.

The local stack builds everything from here, so it never drifts from what SAM deploys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


# libyaml's loader when PyYAML has it (5x faster on this template; every process reads it).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CfnLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A YAML loader that understands CloudFormation's short-form intrinsic functions."""


def _intrinsic(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class HttpRoute:
    function: str
    method: str
    path: str
    authorizer: str | None

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", self.path)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")

    @property
    def specificity(self) -> tuple[int, int]:
        """API Gateway prefers static paths, then fewer/greedy-later parameters."""
        return (self.path.count("{"), -len(self.path))


@dataclass
class StreamSource:
    function: str
    table: str
    batch_size: int
    report_item_failures: bool
    bisect: bool
    max_retries: int
    on_failure: str | None
    filters: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class QueueSource:
    function: str
    queue: str
    batch_size: int
    report_item_failures: bool


@dataclass
class Schedule:
    function: str
    seconds: float
    expression: str


@dataclass
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, Any]
    policies: list[Any]
    properties: dict[str, Any]

    @property
    def short_name(self) -> str:
        return self.code_uri.name


def _rate_seconds(expression: str) -> float:
    match = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", expression)
    if not match:
        raise ValueError(f"unsupported schedule expression {expression!r} (use rate(...))")
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


def _ref_target(value: Any) -> str | None:
    """The logical id named by !Ref X or !GetAtt X.Attr."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


class Template:
    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document if document is not None else load()
        self.resources: dict[str, dict[str, Any]] = self.document.get("Resources", {})
        self.globals: dict[str, Any] = self.document.get("Globals", {}).get("Function", {})

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == kind}

    @property
    def tables(self) -> dict[str, dict[str, Any]]:
        return {k: v["Properties"] for k, v in self.of_type("AWS::DynamoDB::Table").items()}

    @property
    def queues(self) -> dict[str, dict[str, Any]]:
        return {k: v.get("Properties", {}) for k, v in self.of_type("AWS::SQS::Queue").items()}

    @property
    def functions(self) -> dict[str, Function]:
        result = {}
        global_env = self.globals.get("Environment", {}).get("Variables", {})
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource.get("Properties", {})
            env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
            result[logical_id] = Function(
                logical_id=logical_id,
                code_uri=ROOT / str(props["CodeUri"]).rstrip("/"),
                handler=props.get("Handler", self.globals.get("Handler", "app.handler")),
                timeout=int(props.get("Timeout", self.globals.get("Timeout", 3))),
                memory=int(props.get("MemorySize", self.globals.get("MemorySize", 128))),
                environment=env,
                policies=props.get("Policies", []),
                properties=props,
            )
        return result

    def _events(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            for event in resource.get("Properties", {}).get("Events", {}).values():
                if event.get("Type") == kind:
                    found.append((logical_id, event.get("Properties", {})))
        return found

    @property
    def http_routes(self) -> list[HttpRoute]:
        default_authorizer: str | None = None
        for api in self.of_type("AWS::Serverless::HttpApi").values():
            default_authorizer = api.get("Properties", {}).get("Auth", {}).get("DefaultAuthorizer")
        routes = []
        for function, props in self._events("HttpApi"):
            auth = props.get("Auth", {}).get("Authorizer", default_authorizer)
            routes.append(
                HttpRoute(
                    function=function,
                    method=str(props.get("Method", "ANY")).upper(),
                    path=str(props["Path"]),
                    authorizer=None if auth in (None, "NONE") else str(auth),
                )
            )
        return sorted(routes, key=lambda r: r.specificity)

    @property
    def authorizers(self) -> dict[str, str]:
        """Authorizer name → the function logical id that implements it."""
        result = {}
        for api in self.of_type("AWS::Serverless::HttpApi").values():
            authorizers = api.get("Properties", {}).get("Auth", {}).get("Authorizers", {})
            for name, spec in authorizers.items():
                target = _ref_target(spec.get("FunctionArn"))
                if target:
                    result[name] = target
        return result

    @property
    def stream_sources(self) -> list[StreamSource]:
        sources = []
        for function, props in self._events("DynamoDB"):
            table = _ref_target(props.get("Stream"))
            if table is None:
                raise ValueError(f"{function}: DynamoDB event without !GetAtt Table.StreamArn")
            destination = props.get("DestinationConfig", {}).get("OnFailure", {})
            sources.append(
                StreamSource(
                    function=function,
                    table=table,
                    batch_size=int(props.get("BatchSize", 100)),
                    report_item_failures="ReportBatchItemFailures"
                    in props.get("FunctionResponseTypes", []),
                    bisect=bool(props.get("BisectBatchOnFunctionError", False)),
                    max_retries=int(props.get("MaximumRetryAttempts", 3)),
                    on_failure=_ref_target(destination.get("Destination")),
                    filters=props.get("FilterCriteria", {}).get("Filters", []),
                )
            )
        return sources

    @property
    def queue_sources(self) -> list[QueueSource]:
        sources = []
        for function, props in self._events("SQS"):
            queue = _ref_target(props.get("Queue"))
            if queue is None:
                raise ValueError(f"{function}: SQS event without !GetAtt Queue.Arn")
            sources.append(
                QueueSource(
                    function=function,
                    queue=queue,
                    batch_size=int(props.get("BatchSize", 10)),
                    report_item_failures="ReportBatchItemFailures"
                    in props.get("FunctionResponseTypes", []),
                )
            )
        return sources

    @property
    def schedules(self) -> list[Schedule]:
        found = []
        for kind in ("Schedule", "ScheduleV2"):
            for function, props in self._events(kind):
                expression = str(props.get("Schedule") or props.get("ScheduleExpression"))
                found.append(Schedule(function, _rate_seconds(expression), expression))
        return found
