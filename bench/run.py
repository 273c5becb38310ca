"""`make bench`: run every bench/bench_*.py, then gather bench/results.md and the README table."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.common import RESULTS, ROOT, machine, stamp

README = ROOT / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _section(text: str) -> str:
    """A result file as a README subsection: its headings start at level three."""
    lines = []
    for line in text.splitlines():
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            line = "#" * min(6, max(3, level + 2 if level < 3 else level)) + line[level:]
        lines.append(line)
    return "\n".join(lines).strip()


def gather() -> None:
    from bench import items

    items.write()
    sections = [_section(p.read_text()) for p in sorted(RESULTS.glob("*.md"))]
    summary = f"_Latest run: {stamp()} on {machine()}._\n\n" + "\n\n".join(sections)
    (ROOT / "bench" / "results.md").write_text("# Benchmark results\n\n" + summary + "\n")
    text = README.read_text()
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        README.write_text(f"{head}{START}\n{summary}\n{END}{tail}")


def main(argv: list[str]) -> int:
    if argv == ["--gather"]:
        gather()
        return 0
    names = argv or sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    failed = []
    for name in names:
        module = name if name.startswith("bench_") else f"bench_{name}"
        print(f"== {module}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", f"bench.{module}"], cwd=ROOT, check=False)
        print(f"== {module}: exit {result.returncode} in {time.monotonic() - started:.0f} s")
        if result.returncode:
            failed.append(module)
    gather()
    if failed:
        print("failed:", ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
