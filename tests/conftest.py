"""Shared fixtures: one embedded local stack (moto server on 127.0.0.1) per test session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from customer_hub.merchants.profiles import CreatedMerchant, NewMerchant, create_merchant
from hubdev.smile_standin import Account, SmileStandIn
from hubdev.stack import LocalStack
from tests.support import item_sizes
from tests.support.api import InProcessApi
from tests.support.storefront import Shop, connect_shop

# Every AWS call a function makes, checked against its deployed role (tests/support/iam_check.py).
pytest_plugins = ("tests.support.iam_check",)


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    local = LocalStack()
    from customer_hub.infra.aws import client

    item_sizes.watch(client("dynamodb"))  # every item the session writes stays < 350 KB
    yield local
    local.stop()


@pytest.fixture(scope="session")
def api(stack: LocalStack) -> InProcessApi:
    return InProcessApi(stack)


def make_merchant(**overrides: str) -> CreatedMerchant:
    fields = {
        "name": "Test Store",
        "shop_domain": f"store-{uuid.uuid4().hex[:8]}.myshopify.com",
        "timezone": "America/New_York",
        "currency": "USD",
        **overrides,
    }
    return create_merchant(NewMerchant.model_validate(fields))


@pytest.fixture
def merchant(stack: LocalStack) -> CreatedMerchant:
    """A fresh merchant (hub not launched) in the session's stack."""
    return make_merchant()


# ---------------------------------------------------------------- Smile.io stand-in
@pytest.fixture(scope="session")
def smile_standin() -> Iterator[SmileStandIn]:
    """One local Smile.io stand-in per session; add an account per test (`add_account`)."""
    with SmileStandIn(issue_after=0.05) as standin:
        yield standin


@pytest.fixture
def smile_account(smile_standin: SmileStandIn) -> tuple[str, Account]:
    """A fresh Smile account with the demo program and 40 customers: (api_key, account)."""
    api_key = f"sk_test_{uuid.uuid4().hex}"
    return api_key, smile_standin.add_account(api_key, customers=40)


# ---------------------------------------------------------------- storefront
@pytest.fixture
def shop(
    stack: LocalStack,
    smile_standin: SmileStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Shop]:
    """A merchant connected to a fresh stand-in account (demo program, no customers)."""
    from customer_hub.infra.config import config

    monkeypatch.setenv("SMILE_API_BASE_URL", smile_standin.url)
    config.cache_clear()
    api_key = f"sk_test_{uuid.uuid4().hex}"
    smile_standin.add_account(api_key)
    yield connect_shop(make_merchant(), smile_standin, api_key)
    monkeypatch.undo()
    config.cache_clear()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if item_sizes.largest["bytes"]:
        terminalreporter.write_line(item_sizes.summary())
        # A whole suite (`make unit`, `make integration`, ...) that passed: bench/results.md
        # reports its largest item (`python -m bench.run --gather`).
        suites = {str(arg).rstrip("/") for arg in config.args}
        if exitstatus == 0 and len(suites) == 1 and config.option.keyword == "":
            (suite,) = suites
            if suite.count("/") == 1 and suite.startswith("tests/"):
                item_sizes.record(suite)
