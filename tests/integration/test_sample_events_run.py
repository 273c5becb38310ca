"""Every sample event under events/ through its real handler, in process (the fast twin of
`make sam-local`, which sends the same events to the same handlers in Lambda containers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from customer_hub.infra.config import config
from hubdev.samples import add_sample_smile_account, load_event, seed_sample_merchant
from hubdev.smile_standin import SmileStandIn
from hubdev.stack import LocalStack
from hubdev.template import Template
from tests.support.samples import case_id, check_response, sample_cases

TEMPLATE = Template()


@pytest.fixture(scope="module")
def sample_stack(stack: LocalStack, smile_standin: SmileStandIn) -> Iterator[LocalStack]:
    """The session's stack with the sample merchant, and Smile.io played by the stand-in."""
    add_sample_smile_account(smile_standin)
    seed_sample_merchant(stack.endpoint, stack.environment)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMILE_API_BASE_URL", smile_standin.url)
        config.cache_clear()
        yield stack
    config.cache_clear()


@pytest.mark.parametrize("case", sample_cases(TEMPLATE), ids=case_id)
def test_sample_event_gets_the_expected_answer(
    sample_stack: LocalStack, case: tuple[str, Path | None]
) -> None:
    function, sample = case
    assert sample, f"{function} has no sample event under events/"
    response = sample_stack.runtime.invoke(function, load_event(sample))
    check_response(TEMPLATE, function, sample, response)
