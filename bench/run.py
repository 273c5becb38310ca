"""`make bench`: run every bench/bench_*.py, then gather bench/results.md and the README summary.

`bench/results.md` holds every result file in full; the README keeps one short table between
its `bench:start` / `bench:end` markers: per benchmark, a few headline figures read from the
result's own tables (`HEADLINES`) and a link to its section of bench/results.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from bench.common import RESULTS, ROOT, machine, stamp

START, END = "<!-- bench:start -->", "<!-- bench:end -->"

# Headline figures per result file (bench/results/<stem>.md): (text, row, columns), each `{}`
# of the text filled with one column's cell. `row` is the start of a table row, whole cells
# joined by " | " (the first row that starts so and has the columns wins); `None` takes the row
# with the largest value in the one column (`{}` twice: the value, then the row's first cell).
Headline = tuple[str, str | None, tuple[str, ...]]
HEADLINES: dict[str, tuple[Headline, ...]] = {
    "coldstart": (
        (
            "slowest handler import: {} a bare Powertools + boto3 handler ({})",
            None,
            ("vs baseline",),
        ),
    ),
    "dashboard": (
        (
            "366-day overview at 100× traffic: {} DynamoDB requests, {} ms median",
            "100x | 366 days",
            ("DynamoDB requests", "median ms"),
        ),
    ),
    "fanout": (
        (
            "1,000 merchants fanned out with {} DynamoDB and {} SQS requests",
            "first fan-out of the slot",
            ("DynamoDB requests", "SQS requests"),
        ),
    ),
    "limiter": (
        (
            "20 instances on one Smile key: peak {} requests per second, {} answered 429",
            "shared: 20 sync instances (4 processes × 5), 60 s",
            ("peak per 1-s window", "429s"),
        ),
        (
            "per-process limiters before: peak {}, {} answered 429",
            "before: per-process limiters, 20 instances, 20 s",
            ("peak per 1-s window", "429s"),
        ),
    ),
    "load": (
        ("50 shoppers: {} requests/s", "requests per second", ("value",)),
        ("{} errors", "errors (target 0)", ("value",)),
        ("p95 {} ms", "all", ("p95 ms",)),
    ),
    "reliability": (
        ("{} AWS calls denied", "AWS calls denied by the deployed roles", ("value",)),
        (
            "{} points or coupons lost or doubled under faults",
            "faults: lost or doubled points/coupons",
            ("value",),
        ),
        ("suite {}", "suite result", ("value",)),
    ),
    "rollups": (
        (
            "{} write requests per record (naive consumer: 1.000)",
            "roll-ups (exactly-once, coalesced)",
            ("write requests / record",),
        ),
    ),
    "scale": (
        ("10 M accounts, 366-day overview: {} DynamoDB requests", "10 M", ("DynamoDB requests",)),
    ),
    "storefront": (
        (
            "warm member `GET /loyalty`: {} DynamoDB requests, p50 {}",
            "GET /loyalty (member)",
            ("DynamoDB req/call", "p50"),
        ),
        (
            "redeem: {} DynamoDB + {} Smile requests",
            "POST /rewards/{id}/redeem",
            ("DynamoDB req/call", "Smile req/call"),
        ),
    ),
    "sync": (
        (
            "full sync of 10,000 customers: {} Smile requests, {}× the rate-limit minimum",
            "full | 10000",
            ("Smile requests", "wall ÷ minimum"),
        ),
    ),
}


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def tables(text: str) -> list[list[dict[str, str]]]:
    """The markdown tables of a result file, each as rows of header → cell (the label too)."""
    found: list[list[dict[str, str]]] = []
    lines = text.splitlines()
    i = 0
    while i + 1 < len(lines):
        if lines[i].startswith("|") and re.fullmatch(r"\|[\s:|-]+\|", lines[i + 1].strip()):
            header, rows = _cells(lines[i]), []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                cells = _cells(lines[i])
                row = dict(zip(header, cells, strict=False))
                row[""] = " | ".join(cells)
                rows.append(row)
                i += 1
            found.append(rows)
        else:
            i += 1
    return found


def _number(cell: str) -> float:
    match = re.search(r"-?\d[\d,]*(?:\.\d+)?", cell)
    return float(match.group().replace(",", "")) if match else float("-inf")


def headline(text: str, item: Headline) -> str:
    template, row_start, columns = item
    rows = [row for table in tables(text) for row in table if all(c in row for c in columns)]
    blank = template.format(*["—"] * template.count("{}"))
    if row_start is None:
        if not rows:
            return blank
        top = max(rows, key=lambda row: _number(row[columns[0]]))
        return template.format(top[columns[0]], next(iter(top.values())))
    for row in rows:
        if (row[""] + " |").startswith(row_start + " |"):
            return template.format(*(row[c] for c in columns))
    return blank


def title_and_date(text: str) -> tuple[str, str]:
    title = next((ln.lstrip("#").strip() for ln in text.splitlines() if ln.startswith("#")), "")
    measured = re.search(r"_Measured (\d{4}-\d\d-\d\d)", text)
    return title, measured.group(1) if measured else "—"


def anchor(title: str) -> str:
    """GitHub's anchor of a heading."""
    slug = re.sub(r"[^\w\- ]", "", title.lower().replace("`", ""))
    return slug.replace(" ", "-")


def _section(text: str) -> str:
    """A result file as a section of bench/results.md: its first heading at level two."""
    lines = []
    for line in text.splitlines():
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            line = "#" * max(2, level - 1) + line[level:]
        lines.append(line)
    return "\n".join(lines).strip()


def summary_table(results: dict[str, str]) -> str:
    """The README's table: one row per benchmark, headline figures, link to the full section."""
    rows = ["| benchmark | headline figures | measured |", "|---|---|---|"]
    for stem, text in results.items():
        title, measured = title_and_date(text)
        figures = "; ".join(headline(text, item) for item in HEADLINES.get(stem, ()))
        link = f"[{title}](bench/results.md#{anchor(title)})"
        rows.append(f"| {link} | {figures or 'see the section'} | {measured} |")
    return "\n".join(rows)


def gather(root: Path = ROOT, results_dir: Path = RESULTS) -> None:
    if results_dir == RESULTS:
        from bench import items

        items.write()  # bench/results/items.md: the largest item each suite and benchmark wrote
    results = {p.stem: p.read_text() for p in sorted(results_dir.glob("*.md"))}
    gathered = f"_Gathered {stamp()} on {machine()}; each section says when it was measured._"
    contents = "\n".join(
        f"- [{title}](#{anchor(title)})" for title, _ in map(title_and_date, results.values())
    )
    sections = "\n\n".join(_section(text) for text in results.values())
    (root / "bench" / "results.md").write_text(
        f"# Benchmark results\n\n{gathered} Written by `make bench` (`python -m bench.run`):"
        f" each section is `bench/results/<name>.md`.\n\n{contents}\n\n{sections}\n"
    )
    readme = root / "README.md"
    text = readme.read_text()
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        readme.write_text(f"{head}{START}\n{summary_table(results)}\n{END}{tail}")


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
