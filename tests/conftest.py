"""Shared fixtures: one embedded local stack (moto server on 127.0.0.1) per test session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from customer_hub.merchants import CreatedMerchant, NewMerchant, create_merchant
from hubdev.stack import LocalStack
from tests.support.api import InProcessApi


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    local = LocalStack()
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
