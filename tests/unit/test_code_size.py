"""The shared package stays in pieces a reader holds in their head (issue 15): no module over
400 lines, no class over 200. A piece that grows past them is split by concern, not by line."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "shared" / "customer_hub"
MODULE_LINES = 400
CLASS_LINES = 200


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_is_found() -> None:
    assert len(_modules()) > 50


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path in _modules()
        if (lines := path.read_text(encoding="utf-8").count("\n")) > MODULE_LINES
    }
    assert not long, f"split these modules by concern: {long}"


def test_no_class_is_over_200_lines() -> None:
    long = {
        f"{path.relative_to(PACKAGE)}:{node.name}": lines
        for path in _modules()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and (lines := (node.end_lineno or node.lineno) - node.lineno + 1) > CLASS_LINES
    }
    assert not long, f"split these classes by concern: {long}"
