"""`make sam-local`: the session's containers (runtime, images, network, moto) and build.

The suite needs root or Docker and a few minutes, so it runs only when CHUB_SAMLOCAL=1
(`make sam-local` sets it); a plain `pytest` skips it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from hubdev.samlocal import SamLocal
from hubdev.samples import add_sample_smile_account, seed_sample_merchant


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CHUB_SAMLOCAL") == "1":
        return
    skip = pytest.mark.skip(reason="containers: run with `make sam-local` (CHUB_SAMLOCAL=1)")
    for item in items:
        if "tests/samlocal/" in item.nodeid and "containers" in item.fixturenames:
            item.add_marker(skip)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # so a CI timeout's SIGTERM still removes the containers


@pytest.fixture(scope="session")
def containers() -> Iterator[SamLocal]:
    previous = signal.signal(signal.SIGTERM, _interrupt)
    session = SamLocal.start()
    try:
        seed_sample_merchant(session.endpoint, session.function_environment())
        if session.smile is not None:
            add_sample_smile_account(session.smile)
        yield session
    finally:
        session.stop()
        signal.signal(signal.SIGTERM, previous)
