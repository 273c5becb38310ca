"""The docs a newcomer reads stay short, complete and inside the repository (issue 15)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from bench.run import anchor

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PACKAGE = ROOT / "layers" / "shared" / "customer_hub"
PAGES = [README, ROOT / "bench" / "results.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(page: Path) -> set[str]:
    found, fenced = set(), False
    for line in page.read_text(encoding="utf-8").splitlines():
        fenced ^= line.startswith("```")
        if not fenced and line.startswith("#"):
            found.add(anchor(line.lstrip("#").strip()))
    return found


def test_the_readme_fits_in_200_lines() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= 200, f"README.md has {lines} lines: move detail into docs/"


def test_every_link_stays_in_the_repository_and_resolves() -> None:
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, fragment = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.is_relative_to(ROOT):
                broken.append(f"{page.relative_to(ROOT)}: {target} leaves the repository")
            elif not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} does not exist")
            elif fragment and dest.suffix == ".md" and fragment not in _anchors(dest):
                broken.append(f"{page.relative_to(ROOT)}: {target} names no heading")
    assert not broken, "\n".join(broken)


def test_the_readme_layout_names_every_directory_and_sub_package() -> None:
    text = README.read_text(encoding="utf-8")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    top = {name.split("/", 1)[0] for name in tracked if "/" in name}
    missing = [f"{name}/" for name in sorted(top) if f"\n{name}/" not in text]
    missing += [
        f"customer_hub/{package.name}/"
        for package in sorted(PACKAGE.iterdir())
        if (package / "__init__.py").is_file() and f"`{package.name}/`" not in text
    ]
    assert not missing, f"add a line to the README's layout for: {', '.join(missing)}"


def test_every_context_has_its_page() -> None:
    described_elsewhere = {"schemas"}  # the response models are the edge's (docs/contexts/edge.md)
    missing = [
        package.name
        for package in sorted(PACKAGE.iterdir())
        if (package / "__init__.py").is_file()
        and package.name not in described_elsewhere
        and not (ROOT / "docs" / "contexts" / f"{package.name}.md").is_file()
    ]
    assert not missing, f"write docs/contexts/<name>.md for: {', '.join(missing)}"
