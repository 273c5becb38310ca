"""Every sample event under events/ through its real handler, in process (the fast twin of
`make sam-local`, which sends the same events to the same handlers in Lambda containers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubdev.samples import load_event, seed_sample_merchant
from hubdev.stack import LocalStack
from hubdev.template import Template
from tests.support.samples import case_id, check_response, sample_cases

TEMPLATE = Template()


@pytest.fixture(scope="module")
def sample_stack(stack: LocalStack) -> LocalStack:
    seed_sample_merchant(stack.endpoint, stack.environment)
    return stack


@pytest.mark.parametrize("case", sample_cases(TEMPLATE), ids=case_id)
def test_sample_event_gets_the_expected_answer(
    sample_stack: LocalStack, case: tuple[str, Path | None]
) -> None:
    function, sample = case
    assert sample, f"{function} has no sample event under events/"
    response = sample_stack.runtime.invoke(function, load_event(sample))
    check_response(TEMPLATE, function, sample, response)
