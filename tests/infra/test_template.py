"""The SAM template: valid, buildable, least privilege, and every function has sample events."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hubdev.template import ROOT, Template

TEMPLATE = Template()
FUNCTIONS = TEMPLATE.functions
SAM = shutil.which("sam", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def _sam(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    assert SAM, "sam is installed by `make setup` (aws-sam-cli in requirements-dev.txt)"
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "PATH": path, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run(
        [SAM, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_sam_validate_lint_is_clean() -> None:
    result = _sam("validate", "--lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_build_succeeds(tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    result = _sam("build", "--build-dir", str(build_dir), "--cache-dir", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for logical_id, function in FUNCTIONS.items():
        assert (build_dir / logical_id / "app.py").is_file(), logical_id
        for shipped in function.code_uri.glob("*.json"):  # e.g. get_openapi's document
            assert (build_dir / logical_id / shipped.name).is_file(), (logical_id, shipped.name)
    layer = build_dir / "SharedLayer" / "python"
    assert (layer / "customer_hub" / "__init__.py").is_file()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert (layer / "pydantic_core").is_dir()


def _statements(function: Any) -> list[dict[str, Any]]:
    statements = []
    for policy in function.policies:
        if isinstance(policy, dict) and "Statement" in policy:
            statements.extend(policy["Statement"])
    return statements


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_function_has_its_own_least_privilege_policy(logical_id: str) -> None:
    """A function that needs AWS access has inline statements of its own; one that needs none
    (e.g. GET /v1/openapi.json) has no `Policies` at all, only SAM's basic execution role."""
    function = FUNCTIONS[logical_id]
    statements = _statements(function)
    if function.policies:
        assert statements, f"{logical_id} has no inline policy statements of its own"
    for policy in function.policies:
        assert not isinstance(policy, str), f"{logical_id} uses a managed policy {policy}"
    for statement in statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all("*" not in action for action in actions), (logical_id, actions)
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        assert "*" not in resources, (logical_id, statement)


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_function_has_sample_events(logical_id: str) -> None:
    folder = ROOT / "events" / FUNCTIONS[logical_id].short_name
    samples = sorted(folder.glob("*.json"))
    assert samples, f"no sample event under events/{folder.name}/ for {logical_id}"
    for sample in samples:
        json.loads(sample.read_text(encoding="utf-8"))


def test_function_folders_match_the_template() -> None:
    on_disk = {p.parent.name for p in (ROOT / "functions").glob("*/app.py")}
    in_template = {f.short_name for f in FUNCTIONS.values()}
    assert on_disk == in_template


def test_tables_have_pitr_on_demand_and_ttl() -> None:
    for logical_id, props in TEMPLATE.tables.items():
        assert props["BillingMode"] == "PAY_PER_REQUEST", logical_id
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], logical_id
        assert props["TimeToLiveSpecification"]["Enabled"], logical_id
    assert TEMPLATE.tables["EventsTable"]["StreamSpecification"]


def test_globals_pin_runtime_tracing_and_json_logs() -> None:
    globals_ = TEMPLATE.globals
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Tracing"] == "Active"
    assert globals_["LoggingConfig"]["LogFormat"] == "JSON"
    assert {"ApiUrl", "DataTableName", "EventsTableName", "MetricsTableName"} <= set(
        TEMPLATE.document["Outputs"]
    )


def test_tables_holding_merchant_data_are_retained_and_protected() -> None:
    """`sam delete`, or an update that replaces a table, must not delete merchant data: every
    table is retained on delete and on replacement, deletion-protected, with PITR — as
    CloudFormation receives it (the SAM translation keeps the attributes)."""
    from hubdev.iam import translate

    translated = translate()["Resources"]
    tables = TEMPLATE.of_type("AWS::DynamoDB::Table")
    assert {"DataTable", "EventsTable", "MetricsTable", "IdempotencyTable"} <= set(tables)
    for logical_id in tables:
        table = translated[logical_id]
        assert table["DeletionPolicy"] == "Retain", logical_id
        assert table["UpdateReplacePolicy"] == "Retain", logical_id
        props = table["Properties"]
        assert props["DeletionProtectionEnabled"] is True, logical_id
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], logical_id


def test_the_aws_call_log_of_the_iam_check_is_never_deployed() -> None:
    """CHUB_AWS_CALL_LOG (each AWS call printed to stderr, customer_hub.infra.aws) is for
    `make sam-local` only: template.yaml never sets it."""
    assert "CHUB_AWS_CALL_LOG" not in (ROOT / "template.yaml").read_text(encoding="utf-8")


def test_a_redemption_is_over_before_not_found_becomes_conclusive() -> None:
    """`reconciliation.reconcile` concludes Smile did not buy once HOLD_OUTCOME_FINAL_SECONDS have
    passed since the attempt began: no redeem request (its Lambda timeout, which bounds the
    wait for a slot in the shared Smile budget and the purchase's read timeout) lasts that long."""
    from customer_hub.loyalty.snapshots import HOLD_OUTCOME_FINAL_SECONDS
    from customer_hub.smile import access as smile_access
    from customer_hub.smile.ratelimit import HORIZON_SECONDS

    timeout = FUNCTIONS["RedeemRewardFunction"].timeout
    assert HORIZON_SECONDS["urgent"] + smile_access.PURCHASE_READ_TIMEOUT < timeout
    assert timeout < HOLD_OUTCOME_FINAL_SECONDS
