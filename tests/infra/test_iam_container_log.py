"""`make sam-local`'s IAM check in a real interpreter: a container's AWS calls, printed by the
botocore hook of `customer_hub.infra.aws`, are read back and checked against the deployed role.
A subprocess that tries real connections: here rather than in the millisecond unit suite."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from hubdev import iam
from hubdev.template import ROOT


def test_a_sam_local_container_prints_every_aws_call_for_the_check(tmp_path: Path) -> None:
    """CHUB_AWS_CALL_LOG=stderr (set by `make sam-local` only): customer_hub.infra.aws registers
    the hook for every botocore session — Powertools' own Secrets Manager client too — and
    `parse_container_log` reads the lines back as the function's calls."""
    script = tmp_path / "calls.py"
    script.write_text(
        textwrap.dedent(
            """
            import contextlib
            from customer_hub.infra.aws import client
            from customer_hub.infra.secrets import read_secret
            with contextlib.suppress(Exception):
                client("dynamodb").get_item(TableName="chub-samlocal-DataTable", Key={})
            with contextlib.suppress(Exception):
                read_secret("customer-hub/local/merchants/m_0123456789abcdef/smile")
            """
        ),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "CHUB_AWS_CALL_LOG": "stderr",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: the call is still logged
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("layers/shared", "devtools", ".")),
    }
    result = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    calls = iam.parse_container_log("GetLoyaltyFunction", result.stderr)
    assert {(c["service"], c["operation"]) for c in calls} == {
        ("dynamodb", "GetItem"),
        ("secretsmanager", "GetSecretValue"),
    }, result.stderr[-2000:]
    report = iam.DeployedRoles().check([(c, 1) for c in calls])
    assert report.calls == 2 and not report.denials, [d.message for d in report.denials]
