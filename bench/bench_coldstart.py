"""Cold start: import time of every handler in a fresh interpreter, and its deployed size.

Baseline: `bench/baseline_handler.py` (Powertools Logger + a boto3 client), measured in the
same run. Each figure is the median of RUNS fresh interpreters.

The interpreter sees what a Lambda sandbox sees, not the development venv: the standard
library, the packages of the shared layer's requirements and their dependencies (no extras),
and boto3 from the runtime, linked into one folder and put on the path of `python -S`. The venv
also holds development tools that change what a library imports (httpx loads its command line
with rich when rich is installed; botocore loads awscrt when it is there), which would measure a
machine no function runs on. Baseline and handler samples alternate, so load from other work on
the machine falls on both.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import cast

from packaging.markers import default_environment
from packaging.requirements import Requirement

from bench.common import ROOT, median, table, write_result
from hubdev.template import Template

RUNS = int(os.environ.get("BENCH_COLDSTART_RUNS", "7"))
TARGET = 1.3

_PROBE = """
import importlib.util, sys, time
wall, cpu = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("handler_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
print(time.perf_counter() - wall, time.process_time() - cpu)
"""


LAYER_REQUIREMENTS = ROOT / "layers" / "shared" / "requirements.txt"
RUNTIME_PACKAGES = ("boto3",)  # what the Lambda Python runtime ships


def _requirements() -> list[str]:
    lines = (line.split("#")[0].strip() for line in LAYER_REQUIREMENTS.read_text().splitlines())
    return [line for line in lines if line] + list(RUNTIME_PACKAGES)


def _closure(requirements: Iterable[str]) -> list[metadata.Distribution]:
    """The installed distributions the requirements pull in, extras left out."""
    environment = {**cast(dict[str, str], default_environment()), "extra": ""}
    found: dict[str, metadata.Distribution] = {}
    pending = list(requirements)
    while pending:
        requirement = Requirement(pending.pop())
        key = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if key in found:
            continue
        found[key] = distribution = metadata.distribution(requirement.name)
        for dependency in distribution.requires or []:
            marker = Requirement(dependency).marker
            if marker is None or marker.evaluate(environment):
                pending.append(dependency)
    return list(found.values())


def lambda_path(folder: Path) -> Path:
    """Link the top-level modules of the layer + runtime distributions into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for distribution in _closure(_requirements()):
        for file in distribution.files or []:
            top = file.parts[0]
            if top.endswith((".dist-info", ".data")) or top in ("..", "__pycache__"):
                continue
            link = folder / top
            if not link.exists() and not link.is_symlink():
                link.symlink_to(Path(str(distribution.locate_file(top))))
    return folder


def _env(code: Path, site: Path) -> dict[str, str]:
    # Lambda's order: the function's code, then the runtime and the layer.
    return {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "PYTHONPATH": os.pathsep.join([str(code), str(site), str(ROOT / "layers" / "shared")]),
    }


def _sample(path: Path, site: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one import in a fresh interpreter."""
    output = subprocess.run(
        [sys.executable, "-S", "-c", _PROBE, str(path)],
        env=_env(path.parent, site),
        capture_output=True,
        text=True,
        check=True,
        cwd=path.parent,
    ).stdout
    wall, cpu = output.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def import_seconds(path: Path, baseline: Path, site: Path) -> tuple[float, float, float]:
    """Median wall seconds of `path` and of the baseline, and the median CPU-time ratio.

    Each handler sample is paired with a baseline sample taken right after it, and the ratio
    is the median of the pairs' CPU-time ratios: CPU time is what the import itself costs,
    while wall time on a shared machine also counts whatever else was running.
    """
    _sample(path, site)  # warm the file cache and byte-code
    mine, theirs, ratios = [], [], []
    for _ in range(RUNS):
        wall, cpu = _sample(path, site)
        base_wall, base_cpu = _sample(baseline, site)
        mine.append(wall)
        theirs.append(base_wall)
        ratios.append(cpu / base_cpu)
    return median(mine), median(theirs), median(ratios)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build_sizes() -> tuple[dict[str, int], int]:
    """Bytes of each built function package and of the shared layer (`sam build`)."""
    with tempfile.TemporaryDirectory() as folder:
        build = Path(folder) / "build"
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        subprocess.run(
            [str(Path(sys.executable).parent / "sam"), "build", "--build-dir", str(build)],
            cwd=ROOT,
            env={**os.environ, "PATH": path, "SAM_CLI_TELEMETRY": "0"},
            capture_output=True,
            check=True,
        )
        functions = {
            p.name: _size(p) for p in build.iterdir() if p.is_dir() and p.name != "SharedLayer"
        }
        return functions, _size(build / "SharedLayer")


def main() -> None:
    baseline_path = ROOT / "bench" / "baseline_handler.py"
    sizes, layer = build_sizes()
    rows: list[list[object]] = []
    worst = 0.0
    baselines = []
    with tempfile.TemporaryDirectory() as folder:
        site = lambda_path(Path(folder) / "site")
        _sample(baseline_path, site)
        _, _, framework = import_seconds(ROOT / "bench" / "baseline_route.py", baseline_path, site)
        for logical_id, function in sorted(Template().functions.items()):
            seconds, base, ratio = import_seconds(function.code_uri / "app.py", baseline_path, site)
            baselines.append(base)
            worst = max(worst, ratio)
            rows.append(
                [
                    logical_id,
                    f"{seconds * 1000:.0f} ms",
                    f"{ratio:.2f}×",
                    "yes" if ratio <= TARGET else "**no**",
                    f"{ratio / framework:.2f}×",
                    f"{sizes.get(logical_id, 0) / 1024:.1f} KiB",
                ]
            )
    baseline = median(baselines)
    body = (
        f"Import time of each handler module in a fresh interpreter (median of {RUNS}), with "
        "the modules a Lambda sandbox has (standard library, the shared layer's requirements, "
        "the runtime's boto3; not the development venv), against a bare Powertools + boto3 "
        f"handler sampled alternately with it: **{baseline * 1000:.0f} ms** (median wall time). "
        "Each ratio is the median, over the pairs, of the handler's import CPU time over the "
        "baseline's taken right after it (CPU time: the machine is shared, and wall time also "
        f"counts other work). Target ≤ {TARGET}×. For scale, the same bare handler behind a "
        "Powertools HTTP API resolver with request validation and one route "
        f"(`bench/baseline_route.py`), which every route function carries, is **{framework:.2f}×**; "
        "the `vs Powertools route` column divides by it: what our own code adds. "
        f"Shared layer (built, unzipped): **{layer / 1024 / 1024:.1f} MiB**; worst ratio "
        f"**{worst:.2f}×**.\n\n"
        + table(
            [
                "function",
                "import",
                "vs baseline",
                f"≤ {TARGET}×",
                "vs Powertools route",
                "package",
            ],
            rows,
        )
    )
    write_result("coldstart", "Cold start (import time) and package size", body)
    print(
        json.dumps(
            {
                "baseline_ms": round(baseline * 1000, 1),
                "framework_ratio": round(framework, 2),
                "worst_ratio": round(worst, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
