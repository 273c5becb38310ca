"""Unit test fixtures: redemption on in-memory fakes (`tests/support/redemption_fakes.py`)."""

from __future__ import annotations

import pytest

from tests.support.redemption_fakes import World, make_world


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    return make_world(monkeypatch)
