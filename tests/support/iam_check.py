"""IAM proven by use, in every suite (a pytest plugin loaded by tests/conftest.py).

From the start of the session every AWS call a function makes is recorded (`hubdev.iam`): in
this process (the local stack's runtime and event sources), in `hub dev` subprocesses (they
inherit CHUB_IAM_RECORD_DIR and append to a file there) and in `sam local invoke` containers
(tests/samlocal feeds their logs to `record`). After each test the new calls are checked
against the functions' roles as CloudFormation receives them: a call no statement allows fails
that test with the function, the call and the statement to add. The terminal summary gives the
session's figures (calls, distinct function x action pairs, denied).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubdev import iam

_state: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CHUB_IAM_CHECK") == "0":  # e.g. a benchmark run
        return
    folder = Path(tempfile.mkdtemp(prefix="chub-iam-"))
    os.environ[iam.RECORD_DIR_ENV] = str(folder)  # hub dev subprocesses record there
    _state.update(
        recorder=iam.install(iam.Recorder()),
        folder=folder,
        offsets={},
        seen={},
        report=iam.Report(),
        roles=None,
    )


def record(records: list[iam.Record]) -> None:
    """Calls recorded elsewhere (a `sam local invoke` container's log)."""
    if _state:
        for one in records:
            _state["recorder"].add(one)


def _roles() -> iam.DeployedRoles:
    if _state["roles"] is None:
        _state["roles"] = iam.DeployedRoles()
    roles: iam.DeployedRoles = _state["roles"]
    return roles


def check_new_calls() -> iam.Report:
    """Check the calls recorded since the last check (each distinct call once per count)."""
    recorder: iam.Recorder = _state["recorder"]
    for call, count in iam.read_record_files(_state["folder"], _state["offsets"]):
        recorder.add(call, count)
    seen: dict[str, int] = _state["seen"]
    fresh: list[tuple[iam.Record, int]] = []
    for key, count in list(recorder.calls.items()):
        new = count - seen.get(key, 0)
        if new > 0:
            fresh.append((json.loads(key), new))
            seen[key] = count
    report = _roles().check(fresh)
    _state["report"].merge(report)
    return report


@pytest.fixture(autouse=True)
def _iam_proven_by_use() -> Iterator[None]:
    yield
    if not _state:
        return
    report = check_new_calls()
    if report.denials:
        distinct = {d.message: d for d in report.denials}
        pytest.fail(
            "AWS calls the deployed roles do not allow (template.yaml as SAM translates it):\n"
            + "\n".join(distinct),
            pytrace=False,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _state:
        return
    if check_new_calls().denials:  # made after the last test (background threads, teardown)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    report: iam.Report = _state["report"]
    for name, module in list(sys.modules.items()):  # the reliability suite's summary table
        figures = getattr(module, "FIGURES", None)
        if name.endswith("reliability.conftest") and figures is not None and report.calls:
            figures["AWS calls checked against the deployed roles"] += report.calls
            figures["AWS calls: distinct function x action pairs"] += len(report.pairs)
            figures["AWS calls denied by the deployed roles"] += len(report.denials)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _state:
        shutil.rmtree(_state["folder"], ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if not _state:
        return
    report: iam.Report = _state["report"]
    if report.calls == 0:
        return
    terminalreporter.write_sep("=", "IAM proven by use")
    terminalreporter.write_line(report.summary())
    target = os.environ.get("CHUB_IAM_REPORT")  # every function x action x resource, as JSON
    if target:
        rows = sorted([f, r.action, r.resource] for f, r in report.requests)
        Path(target).write_text(
            json.dumps({"summary": report.summary(), "checked": rows}, indent=1), encoding="utf-8"
        )
    for denial in {d.message: d for d in report.denials}:
        terminalreporter.write_line(denial)
