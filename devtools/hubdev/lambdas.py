"""Runs the template's functions in process: the real handler modules, a Lambda-like context."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from hubdev.aws import ACCOUNT, REGION
from hubdev.iam import acting_as
from hubdev.template import Function


@dataclass
class LocalContext:
    """What a handler may read from the Lambda context object."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str
    started: float

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


_import_lock = threading.Lock()


def load_module(function: Function, sandbox: int = 1) -> ModuleType:
    """Import functions/<name>/app.py (once per sandbox) as its own module.

    Each concurrent sandbox gets its own module copy (`hubfn_<name>`, then `hubfn_<name>__2`,
    ...), as Lambda runs concurrent invocations in separate sandboxes: this emulates a Lambda
    sandbox's warm state (module globals, caches, a resolver's route context serve one
    invocation at a time and stay for the next). It is not what keeps concurrent requests
    apart: production code does that itself, `customer_hub.edge.invocation`.
    """
    module_file = function.handler.rpartition(".")[0]
    path = function.code_uri / f"{module_file.replace('.', '/')}.py"
    module_name = f"hubfn_{function.short_name}" + (f"__{sandbox}" if sandbox > 1 else "")
    with _import_lock:
        module: ModuleType | None = sys.modules.get(module_name)
        if module is None:
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[module_name]
                raise
    return module


def load_handler(function: Function, sandbox: int = 1) -> Callable[[Any, Any], Any]:
    """Import functions/<name>/app.py as its own module and return its handler."""
    handler: Callable[[Any, Any], Any] = getattr(
        load_module(function, sandbox), function.handler.rpartition(".")[2]
    )
    return handler


class Runtime:
    """Invokes functions by logical id."""

    def __init__(self, functions: dict[str, Function]) -> None:
        self.functions = functions
        self._idle: dict[str, list[Callable[[Any, Any], Any]]] = {}
        self._sandboxes: dict[str, int] = {}
        self._pool_lock = threading.Lock()

    def _acquire(self, logical_id: str) -> Callable[[Any, Any], Any]:
        """An idle sandbox of the function, or a new one when all are busy (scale out)."""
        with self._pool_lock:
            idle = self._idle.setdefault(logical_id, [])
            if idle:
                return idle.pop()
            sandbox = self._sandboxes.get(logical_id, 0) + 1
            self._sandboxes[logical_id] = sandbox
        return load_handler(self.functions[logical_id], sandbox)

    def invoke(self, logical_id: str, event: Any) -> Any:
        function = self.functions[logical_id]
        handler = self._acquire(logical_id)
        try:
            with acting_as(logical_id):  # its AWS calls are checked against its role (hubdev.iam)
                return self._run(function, logical_id, handler, event)
        finally:
            with self._pool_lock:
                self._idle[logical_id].append(handler)

    def _run(
        self, function: Function, logical_id: str, handler: Callable[[Any, Any], Any], event: Any
    ) -> Any:
        context = LocalContext(
            function_name=f"customer-hub-local-{logical_id}",
            memory_limit_in_mb=function.memory,
            timeout_seconds=function.timeout,
            aws_request_id=str(uuid.uuid4()),
            started=time.monotonic(),
        )
        return handler(event, context)

    def find(self, name: str) -> str | None:
        """A function by logical id or by its folder name under functions/."""
        if name in self.functions:
            return name
        for logical_id, function in self.functions.items():
            if function.short_name == name:
                return logical_id
        return None
