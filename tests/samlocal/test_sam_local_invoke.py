"""`sam local invoke` of every function of template.yaml with its sample events, in Lambda
containers that reach moto in a container on the same network (see hubdev.samlocal)."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from hubdev.aws import LOCAL_AWS_ENV, REGION
from hubdev.samlocal import Invocation, SamLocal
from hubdev.samples import SAMPLE_MERCHANT_ID
from hubdev.template import ROOT, Template
from tests.support import iam_check
from tests.support.samples import case_id, check_response, sample_cases

TEMPLATE = Template()
CASES = sample_cases(TEMPLATE)
EVENTS = ROOT / "events"
JOBS = int(os.environ.get("CHUB_SAMLOCAL_JOBS", "2"))  # concurrent `sam local invoke`s
_invoked: dict[tuple[str, Path], Invocation] = {}  # each sample runs once per session


def _run(containers: SamLocal, function: str, sample: Path) -> Invocation:
    result = containers.invoke(function, sample)
    iam_check.record(result.aws_calls)  # checked against the function's deployed role
    return result


def _invoke(containers: SamLocal, function: str, sample: Path) -> Any:
    result = _invoked.get((function, sample)) or _run(containers, function, sample)
    _invoked[(function, sample)] = result
    assert result.returncode == 0, result.describe()
    try:
        return result.response
    except (AssertionError, json.JSONDecodeError) as exc:
        raise AssertionError(result.describe()) from exc


def _stored_profile(containers: SamLocal) -> dict[str, Any]:
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=containers.endpoint,
        region_name=REGION,
        aws_access_key_id=LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    item = dynamodb.get_item(
        TableName=containers.function_environment()["DATA_TABLE"],
        Key={"pk": {"S": f"MERCHANT#{SAMPLE_MERCHANT_ID}"}, "sk": {"S": "PROFILE"}},
    )["Item"]
    return {name: next(iter(value.values())) for name, value in item.items()}


def test_every_function_in_the_template_has_a_sample_event() -> None:
    missing = [function for function, sample in CASES if sample is None]
    assert not missing, f"no sample event under events/<function folder>/ for {missing}"


def test_settings_written_in_one_container_are_read_in_another(containers: SamLocal) -> None:
    before = _stored_profile(containers)
    assert before["hub_status"] == "not_launched"

    patched = _invoke(containers, "PatchSettingsFunction", EVENTS / "patch_settings/launch.json")
    assert patched["statusCode"] == 200, patched
    stored = _stored_profile(containers)
    assert stored["hub_status"] == "live"
    assert stored["timezone"] == "Europe/Warsaw"
    assert stored["cart_window_hours"] == "48"

    # The container printed its AWS calls for the IAM-by-use check (CHUB_AWS_CALL_LOG).
    calls = _invoked[("PatchSettingsFunction", EVENTS / "patch_settings/launch.json")].aws_calls
    assert any(
        c["service"] == "dynamodb"
        and c["operation"] == "UpdateItem"
        and c["names"]["TableName"].endswith("-DataTable")
        for c in calls
    ), calls

    read = _invoke(containers, "GetSettingsFunction", EVENTS / "get_settings/authorized.json")
    assert read["statusCode"] == 200, read
    settings = json.loads(read["body"])
    assert settings["merchant_id"] == SAMPLE_MERCHANT_ID
    assert settings["hub_status"] == "live"
    assert settings["timezone"] == "Europe/Warsaw"
    assert settings["cart_window_hours"] == 48
    assert settings["launched_at"] == stored["launched_at"]


@pytest.fixture(scope="session")
def every_sample_invoked(containers: SamLocal) -> None:
    """Invoke the samples not run yet, JOBS at a time (each `sam local invoke` takes seconds)."""
    pending = [(f, s) for f, s in CASES if s is not None and (f, s) not in _invoked]
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        results = pool.map(lambda case: _run(containers, *case), pending)
        for case, result in zip(pending, results, strict=True):
            _invoked[case] = result


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_sam_local_invoke_with_sample_event(
    containers: SamLocal, every_sample_invoked: None, case: tuple[str, Path | None]
) -> None:
    function, sample = case
    assert sample, f"{function} has no sample event under events/"
    check_response(TEMPLATE, function, sample, _invoke(containers, function, sample))
