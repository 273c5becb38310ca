"""The reliability and security suite: figures gathered by every test, printed as one table."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bench.common import table, write_result

FIGURES: Counter[str] = Counter()


@pytest.fixture
def figures() -> Counter[str]:
    """Add to a figure of the summary, e.g. `figures["fuzz cases"] += 1`."""
    return FIGURES


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if not FIGURES:
        return
    rows = [[name, value] for name, value in sorted(FIGURES.items())]
    rows.append(["suite result", "passed" if exitstatus == 0 else f"FAILED (exit {exitstatus})"])
    text = table(["figure", "value"], rows)
    terminalreporter.write_sep("=", "reliability and security summary")
    terminalreporter.write_line(text)
    write_result("reliability", "Reliability and security suite (`make reliability`)", text)
