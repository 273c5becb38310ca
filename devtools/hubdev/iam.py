"""IAM proven by use: every AWS call a function makes, checked against its deployed role.

moto checks no IAM, so the suites record what each function really calls and this module checks
it against the function's role **as CloudFormation receives it**:

- **who calls**: `acting_as(logical_id)` sets the current function (a context variable) around
  each invocation (`hubdev.lambdas.Runtime.invoke`) and around the calls the Lambda service makes
  with the function's role (event source polling and OnFailure destinations in
  `hubdev.pumps`); threads started by a handler (`ThreadPoolExecutor`) inherit it while
  recording. In a `sam local invoke` container each process is one function
  (`CHUB_AWS_CALL_LOG=stderr`, see `customer_hub.infra.aws`).
- **what is called**: a `before-parameter-build` hook on every botocore session
  (`botocore.handlers.BUILTIN_HANDLERS`, so Powertools' own clients are seen too) keeps the
  service, the operation and the names of its resources (`customer_hub.infra.aws.call_record`), then
  `requirements` turns them into IAM actions and resource ARNs (batch and transaction calls
  into one action per table, `Query` on an index into `table/T/index/I`, `GetRecords` into the
  stream of its iterator, `SendMessageBatch` into `sqs:SendMessage`, ...).
- **what is allowed**: template.yaml translated by `aws-sam-translator` (what `sam deploy`
  sends), each function's role with its inline policies, the AWS managed policies it attaches
  (documents vendored in `devtools/hubdev/managed_policies.json`) and `AWS::IAM::Policy`
  resources naming the role; `Ref`/`GetAtt`/`Sub` resolved the same way for every local stack
  (resources are named `<prefix>-<LogicalId>`, so both sides are compared by logical id).
  Statements are evaluated as IAM does: explicit Deny first, Action / NotAction wildcards,
  Resource / NotResource ARN patterns; a statement with a Condition is never counted as an Allow
  (no condition is used today: add its evaluation here when one is).

A call the role does not allow is reported with the statement to add (`Denial.message`).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextvars
import copy
import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

from hubdev.aws import ACCOUNT, REGION, STAGE
from hubdev.template import Template

MANAGED_POLICIES = Path(__file__).with_name("managed_policies.json")
RECORD_DIR_ENV = "CHUB_IAM_RECORD_DIR"  # `hub dev` writes its functions' calls there
STREAM_LABEL = "LABEL"  # stream labels differ per emulation: compared without them
SECRET_SUFFIX = "AbCdEf"  # noqa: S105 - not a secret: Secrets Manager adds "-" + 6 random characters to every secret's ARN

current_function: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "hubdev_current_function", default=None
)


@contextmanager
def acting_as(logical_id: str) -> Iterator[None]:
    """AWS calls made inside are made with this function's role."""
    token = current_function.set(logical_id)
    try:
        yield
    finally:
        current_function.reset(token)


# ---------------------------------------------------------------- recording
Record = dict[str, Any]  # {"function", "service", "operation", "names"}


class Recorder:
    """Counts each distinct call (function, service, operation, resource names)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, record: Record, count: int = 1) -> None:
        key = json.dumps(record, sort_keys=True, separators=(",", ":"))
        with self._lock:
            self.calls[key] += count

    def records(self) -> list[tuple[Record, int]]:
        with self._lock:
            return [(json.loads(k), n) for k, n in self.calls.items()]


_installed: list[Recorder] = []


def _hook(model: Any = None, params: Any = None, **_: Any) -> None:
    function = current_function.get()
    if function is None or model is None or not isinstance(params, dict) or not _installed:
        return
    from customer_hub.infra.aws import call_record

    record = {"function": function, **call_record(model, params)}
    for recorder in _installed:
        recorder.add(record)


_original_submit = concurrent.futures.ThreadPoolExecutor.submit


def _submit_in_context(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
    return _original_submit(self, contextvars.copy_context().run, fn, *args, **kwargs)


def install(recorder: Recorder) -> Recorder:
    """Record every AWS call made by a function from now on (botocore sessions created later)."""
    from botocore.handlers import BUILTIN_HANDLERS

    if ("before-parameter-build", _hook) not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.append(("before-parameter-build", _hook))
        # A handler's worker threads act for its function, as they do in its Lambda sandbox.
        concurrent.futures.ThreadPoolExecutor.submit = _submit_in_context  # type: ignore[method-assign]
    _installed.append(recorder)
    return recorder


def install_file_recorder_from_env() -> Recorder | None:
    """In `hub dev`: when CHUB_IAM_RECORD_DIR is set (the test suites), every call is counted
    and the new counts appended twice a second (and at exit) to <dir>/calls-<pid>.jsonl, one
    JSON line {"count", "call"} per distinct call, for the suite's check."""
    folder = os.environ.get(RECORD_DIR_ENV)
    if not folder:
        return None
    recorder = install(Recorder())
    handle = (Path(folder) / f"calls-{os.getpid()}.jsonl").open("a", encoding="utf-8")
    written: dict[str, int] = {}
    lock = threading.Lock()

    def flush() -> None:
        with lock:
            lines = []
            for record, count in recorder.records():
                key = json.dumps(record, sort_keys=True, separators=(",", ":"))
                if count > written.get(key, 0):
                    lines.append(json.dumps({"count": count - written.get(key, 0), "call": record}))
                    written[key] = count
            if lines:
                handle.write("\n".join(lines) + "\n")
                handle.flush()

    def every_half_second() -> None:
        while True:
            time.sleep(0.5)
            flush()

    threading.Thread(target=every_half_second, name="iam-record", daemon=True).start()
    atexit.register(flush)
    return recorder


def read_record_files(folder: Path, offsets: dict[Path, int]) -> list[tuple[Record, int]]:
    """New lines of every calls-*.jsonl since the offsets (updated): (call, count)."""
    found: list[tuple[Record, int]] = []
    for path in sorted(folder.glob("calls-*.jsonl")):
        with path.open("rb") as handle:
            handle.seek(offsets.get(path, 0))
            data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]
        offsets[path] = offsets.get(path, 0) + len(complete)
        for line in complete.splitlines():
            if line.strip():
                entry = json.loads(line)
                found.append((entry["call"], int(entry["count"])))
    return found


_CALL_MARKER = "CHUB_AWS_CALL "


def parse_container_log(function: str, text: str) -> list[Record]:
    """The calls a `sam local invoke` container printed (CHUB_AWS_CALL_LOG=stderr): one JSON
    object after each marker, wherever it is (a function's threads printing at once can put two
    records on one line)."""
    decoder = json.JSONDecoder()
    found = []
    at = text.find(_CALL_MARKER)
    while at >= 0:
        record, end = decoder.raw_decode(text, at + len(_CALL_MARKER))
        found.append({"function": function, **record})
        at = text.find(_CALL_MARKER, end)
    return found


# ---------------------------------------------------------------- calls → IAM requests
@dataclass(frozen=True)
class Request:
    """One IAM authorization request: action and canonical resource ARN."""

    action: str
    resource: str


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


class Names:
    """Physical names of the emulations → logical ids (`<prefix>-<LogicalId>[.fifo]`)."""

    def __init__(self, logical_ids: Iterable[str]) -> None:
        self.logical_ids = set(logical_ids)

    def logical(self, physical: str) -> str:
        name = physical.removesuffix(".fifo")
        for candidate in (name, name.rpartition("-")[2]):
            if candidate in self.logical_ids:
                return candidate
        for logical_id in sorted(self.logical_ids, key=len, reverse=True):
            if name.endswith(f"-{logical_id}"):
                return logical_id
        return physical

    def table(self, name: str) -> str:
        return _arn("dynamodb", f"table/{self.logical(name)}")

    def stream(self, arn: str) -> str:
        match = re.match(r"arn:[^:]+:dynamodb:[^:]*:[^:]*:table/([^/]+)/stream/", arn)
        if not match:
            return arn
        return self.table(match.group(1)) + f"/stream/{STREAM_LABEL}"

    def queue(self, url_or_name: str) -> str:
        return _arn("sqs", self.logical(url_or_name.rstrip("/").rsplit("/", 1)[-1]))

    @staticmethod
    def secret(name_or_arn: str) -> str:
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        return _arn("secretsmanager", f"secret:{name_or_arn}-{SECRET_SUFFIX}")


_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_SQS_BATCH = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def requirements(record: Record, names: Names) -> list[Request]:
    """The IAM requests one recorded call needs (one per table of a batch or transaction)."""
    service, operation, given = record["service"], record["operation"], record["names"]
    if service == "dynamodb" and "StreamArn" in given:
        return [Request(f"dynamodb:{operation}", names.stream(given["StreamArn"]))]
    if service == "dynamodb" and "ShardIterator" in given:
        return [Request(f"dynamodb:{operation}", names.stream(given["ShardIterator"]))]
    if service == "dynamodb" and "TransactItems" in given:
        return [
            Request(f"dynamodb:{_TRANSACT_ACTIONS.get(kind, kind)}", names.table(table))
            for kind, table in given["TransactItems"]
        ]
    if service == "dynamodb" and "RequestItems" in given:
        return [Request(f"dynamodb:{operation}", names.table(t)) for t in given["RequestItems"]]
    if service == "dynamodb" and "TableName" in given:
        resource = names.table(given["TableName"])
        if given.get("IndexName"):
            resource += f"/index/{given['IndexName']}"
        return [Request(f"dynamodb:{operation}", resource)]
    if service == "sqs" and ("QueueUrl" in given or "QueueName" in given):
        queue = names.queue(given.get("QueueUrl") or given["QueueName"])
        return [Request(f"sqs:{_SQS_BATCH.get(operation, operation)}", queue)]
    if service == "secretsmanager" and ("SecretId" in given or "Name" in given):
        return [
            Request(
                f"secretsmanager:{operation}", names.secret(given.get("SecretId") or given["Name"])
            )
        ]
    return [Request(f"{service}:{operation}", "*")]


# ---------------------------------------------------------------- the deployed roles
class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs only for policies named by short name."""

    def load(self) -> dict[str, str]:
        return {}


def translate(document: dict[str, Any] | None = None) -> dict[str, Any]:
    """template.yaml as `sam deploy` hands it to CloudFormation (aws-sam-translator)."""
    from unittest import mock

    from samtranslator.translator.transform import transform

    document = copy.deepcopy(document if document is not None else Template().document)
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        for uri in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(uri), str):
                properties[uri] = "s3://packaged/" + properties[uri].strip("/")  # as after upload
    parameters = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION}):
        translated: dict[str, Any] = transform(
            document, parameters, _NoManagedPolicies(), passthrough_metadata=True
        )
    return translated


def managed_policies() -> dict[str, dict[str, Any]]:
    """ARN → {"version", "document"} of the AWS managed policies a role may attach."""
    vendored: dict[str, Any] = json.loads(MANAGED_POLICIES.read_text(encoding="utf-8"))
    return dict(vendored["policies"])


class Resolver:
    """Resolves intrinsics to the canonical ARNs `requirements` produces."""

    def __init__(self, cfn: dict[str, Any], parameters: dict[str, str]) -> None:
        self.resources: dict[str, dict[str, Any]] = cfn["Resources"]
        self.parameters = {
            "AWS::Partition": "aws",
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": "customer-hub-local",
            "AWS::URLSuffix": "amazonaws.com",
            **parameters,
        }

    def ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        kind = self.resources.get(name, {}).get("Type", "")
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        return name

    def get_att(self, name: str, attribute: str) -> str:
        kind = self.resources.get(name, {}).get("Type", "")
        if kind == "AWS::DynamoDB::Table":
            table = _arn("dynamodb", f"table/{name}")
            return table + f"/stream/{STREAM_LABEL}" if attribute == "StreamArn" else table
        if kind == "AWS::SQS::Queue":
            return name if attribute == "QueueName" else _arn("sqs", name)
        if kind == "AWS::Logs::LogGroup":
            return _arn("logs", f"log-group:{name}:*")
        if kind == "AWS::SNS::Topic":
            return _arn("sns", name)
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role/{name}"
        return _arn("local", f"{name}.{attribute}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(str(arg))
            if key == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.get_att(str(parts[0]), str(parts[1]))
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                return re.sub(r"\$\{([^}!]+)\}", lambda m: self._sub(m.group(1), extra), str(text))
            if key == "Fn::Join":
                return str(arg[0]).join(str(self.resolve(v)) for v in arg[1])
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, token: str, extra: dict[str, Any]) -> str:
        if token in extra:
            return str(self.resolve(extra[token]))
        if "." in token and token.split(".", 1)[0] in self.resources:
            return self.get_att(*token.split(".", 1))
        return self.ref(token)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class Role:
    function: str
    role: str
    generated: bool  # SAM made it from the function's Policies (else a Role of the template)
    statements: list[dict[str, Any]]  # resolved, each with "Sid" naming where it comes from
    managed: list[str]


def _pattern(pattern: str, value: str, *, case: bool) -> bool:
    pattern = pattern.replace("[", "[[]")
    return fnmatchcase(value, pattern) if case else fnmatchcase(value.lower(), pattern.lower())


def _matches(statement: dict[str, Any], request: Request) -> bool:
    if "Action" in statement:
        action_ok = any(
            _pattern(str(a), request.action, case=False) for a in _as_list(statement["Action"])
        )
    else:
        action_ok = not any(
            _pattern(str(a), request.action, case=False)
            for a in _as_list(statement.get("NotAction", []))
        )
    if not action_ok:
        return False
    if "Resource" in statement:
        return any(
            _pattern(str(r), request.resource, case=True) for r in _as_list(statement["Resource"])
        )
    return not any(
        _pattern(str(r), request.resource, case=True)
        for r in _as_list(statement.get("NotResource", []))
    )


class DeployedRoles:
    """Every function's role in the translated template, ready to evaluate requests."""

    def __init__(self, template: Template | None = None) -> None:
        self.template = template or Template()
        self.cfn = translate(self.template.document)
        parameters = {
            name: str(spec.get("Default", ""))
            for name, spec in self.cfn.get("Parameters", {}).items()
        }
        parameters["Stage"] = STAGE
        self.resolver = Resolver(self.cfn, parameters)
        self.names = Names(self.cfn["Resources"])
        self.roles = self._roles()
        self._decisions: dict[tuple[str, Request], bool] = {}

    def _roles(self) -> dict[str, Role]:
        resources = self.cfn["Resources"]
        policies = managed_policies()
        roles: dict[str, Role] = {}
        for function, resource in resources.items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            role_ref = resource["Properties"]["Role"]
            role_id = role_ref["Fn::GetAtt"][0] if isinstance(role_ref, dict) else str(role_ref)
            role = resources.get(role_id)
            if role is None or role["Type"] != "AWS::IAM::Role":
                raise ValueError(
                    f"{function}: role {role_ref} is not an AWS::IAM::Role of the stack"
                )
            properties = role["Properties"]
            statements: list[dict[str, Any]] = []
            for policy in properties.get("Policies", []):
                for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                    statements.append({**statement, "Sid": f"inline {policy['PolicyName']}"})
            managed = [
                str(self.resolver.resolve(arn)) for arn in properties.get("ManagedPolicyArns", [])
            ]
            for arn in managed:
                if arn not in policies:
                    raise ValueError(
                        f"{function}: managed policy {arn} is not vendored in "
                        f"{MANAGED_POLICIES.name}; add its document (aws iam get-policy-version)"
                    )
                for statement in _as_list(policies[arn]["document"]["Statement"]):
                    statements.append({**statement, "Sid": f"managed {arn}"})
            for other_id, other in resources.items():
                if other["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                    continue
                attached = [
                    r.get("Ref")
                    for r in other["Properties"].get("Roles", [])
                    if isinstance(r, dict)
                ]
                if role_id in attached:
                    for statement in _as_list(other["Properties"]["PolicyDocument"]["Statement"]):
                        statements.append({**statement, "Sid": f"policy {other_id}"})
            roles[function] = Role(
                function=function,
                role=role_id,
                generated=function not in self._custom_roles(),
                statements=[self.resolver.resolve(s) for s in statements],
                managed=managed,
            )
        return roles

    @cache  # noqa: B019 - one DeployedRoles per process
    def _custom_roles(self) -> set[str]:
        return {
            name
            for name, resource in self.template.resources.items()
            if resource.get("Type") == "AWS::Serverless::Function"
            and "Role" in resource.get("Properties", {})
        }

    def allows(self, function: str, request: Request) -> bool:
        key = (function, request)
        if key not in self._decisions:
            statements = self.roles[function].statements
            denied = any(s.get("Effect") == "Deny" and _matches(s, request) for s in statements)
            allowed = any(
                s.get("Effect") == "Allow" and "Condition" not in s and _matches(s, request)
                for s in statements
            )
            self._decisions[key] = allowed and not denied
        return self._decisions[key]

    # ------------------------------------------------------------ checking
    def check(self, records: Iterable[tuple[Record, int]]) -> Report:
        report = Report()
        for record, count in records:
            function = record["function"]
            if function not in self.roles:
                # A test's own function added to its stack (tests/support/functions): not
                # deployed, so no role to check. Every function of template.yaml is checked.
                report.unchecked += count
                continue
            for request in requirements(record, self.names):
                report.calls += count
                report.pairs.add((function, request.action))
                merchant_free = re.sub(r"/m_[0-9a-f]+/", "/m_*/", request.resource)
                report.requests.add((function, Request(request.action, merchant_free)))
                if not self.allows(function, request):
                    report.denials.append(Denial(self, record, request, count))
        return report


@dataclass
class Denial:
    roles: DeployedRoles
    record: Record
    request: Request
    count: int

    @property
    def function(self) -> str:
        return str(self.record["function"])

    def _template_resource(self) -> str:
        resource = self.request.resource
        match = re.fullmatch(r"arn:aws:dynamodb:[^:]*:[^:]*:table/([^/]+)(/.*)?", resource)
        if match and match.group(1) in self.roles.cfn["Resources"]:
            table, rest = match.group(1), match.group(2) or ""
            if rest.startswith("/stream/"):
                return f"!GetAtt {table}.StreamArn"
            return f"!Sub ${{{table}.Arn}}{rest}" if rest else f"!GetAtt {table}.Arn"
        match = re.fullmatch(r"arn:aws:sqs:[^:]*:[^:]*:(.+)", resource)
        if match and match.group(1) in self.roles.cfn["Resources"]:
            return f"!GetAtt {match.group(1)}.Arn"
        match = re.fullmatch(
            r"arn:aws:secretsmanager:[^:]*:[^:]*:secret:(.+)-" + SECRET_SUFFIX, resource
        )
        if match:
            name = re.sub(r"/m_[0-9a-z]+/", "/*/", match.group(1))
            name = name.replace(f"customer-hub/{STAGE}/", "customer-hub/${Stage}/")
            return (
                "!Sub arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
                f":secret:{name}-*"
            )
        return resource

    @property
    def message(self) -> str:
        names = json.dumps(self.record["names"])
        call = f"{self.record['service']} {self.record['operation']} {names}"
        role = self.roles.roles[self.function]
        where = (
            f"{self.function}'s Policies in template.yaml"
            if role.generated
            else f"the Policies of {role.role} (the Role of {self.function}) in template.yaml"
        )
        return (
            f"IAM: {self.function} called {self.request.action} on {self.request.resource} "
            f"({call}, {self.count}x) but its deployed role {role.role} does not allow it.\n"
            f"  Add to {where}:\n"
            f"        - Effect: Allow\n"
            f"          Action: [{self.request.action}]\n"
            f"          Resource: {self._template_resource()}"
        )


@dataclass
class Report:
    calls: int = 0
    unchecked: int = 0  # calls of functions that are not in template.yaml (tests' own)
    pairs: set[tuple[str, str]] = field(default_factory=set)
    requests: set[tuple[str, Request]] = field(default_factory=set)
    denials: list[Denial] = field(default_factory=list)

    def merge(self, other: Report) -> None:
        self.calls += other.calls
        self.pairs |= other.pairs
        self.requests |= other.requests
        self.denials += other.denials

    def summary(self) -> str:
        return (
            f"{self.calls} AWS calls checked against the deployed roles "
            f"({len(self.pairs)} distinct function x action pairs, "
            f"{len(self.requests)} function x action x resource), {len(self.denials)} denied"
        )
