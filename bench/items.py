"""The largest DynamoDB item each test suite and benchmark wrote (issue 18: under 350 KB).

`tests/support/item_sizes.py` sizes every item the test process's DynamoDB client writes (and
fails the write over 350 KB); each whole suite that passes, and the scale benchmark, leave their
largest in `test-output/largest-items.json`. `python -m bench.run --gather` calls `write()`,
which turns that file into `bench/results/items.md`.
"""

from __future__ import annotations

import json

from bench.common import table, write_result
from tests.support.item_sizes import LIMIT, RECORD


def write() -> None:
    try:
        runs = json.loads(RECORD.read_text())
    except (OSError, ValueError):
        return  # nothing measured on this machine: the committed section stays
    rows = [
        [
            run,
            f"{entry['bytes']:,}",
            f"{entry['bytes'] / 1024:.1f} KiB",
            f"{entry['operation']} `{entry['key'][:60]}`",
            "yes" if entry["bytes"] < LIMIT else "**no**",
        ]
        for run, entry in sorted(runs.items())
    ]
    worst = max(entry["bytes"] for entry in runs.values())
    write_result(
        "items",
        "Largest DynamoDB item written (issue 18)",
        "\n".join(
            [
                "Every item a PutItem, BatchWriteItem or TransactWriteItems carries (and what "
                "an UpdateItem sets) through the DynamoDB client of the test or benchmark "
                "process, sized as DynamoDB counts it (attribute names + values); a write over "
                "350 KB fails the test or benchmark that made it. Suites without a row write "
                "nothing through that client (unit) or only through `hub dev` subprocesses "
                f"(e2e, browser). Largest of all: **{worst:,} bytes ({worst / 1024:.1f} KiB)**, "
                "under 350 KB.",
                "",
                table(["suite or benchmark", "bytes", "KiB", "written by", "< 350 KB"], rows),
            ]
        ),
    )
