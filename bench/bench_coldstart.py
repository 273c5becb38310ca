"""Cold start: import time of every handler in a fresh interpreter, and its deployed size.

Baseline: `bench/baseline_handler.py` (Powertools Logger + a boto3 client), measured in the
same run. Each figure is the median of RUNS fresh interpreters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT, median, table, write_result
from hubdev.template import Template

RUNS = int(os.environ.get("BENCH_COLDSTART_RUNS", "7"))
TARGET = 1.3

_PROBE = """
import importlib.util, sys, time
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
print(time.perf_counter() - started)
"""


def _env() -> dict[str, str]:
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "PYTHONDONTWRITEBYTECODE": "0",
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "layers" / "shared"), str(ROOT / "devtools"), str(ROOT)]
        ),
    }
    return env


def import_seconds(path: Path) -> float:
    samples = []
    for _ in range(RUNS):
        output = subprocess.run(
            [sys.executable, "-c", _PROBE, str(path)],
            env=_env(),
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        samples.append(float(output.strip().splitlines()[-1]))
    return median(samples)


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
    # Warm the file cache and byte-code so every measurement starts from the same state.
    baseline_path = ROOT / "bench" / "baseline_handler.py"
    import_seconds(baseline_path)
    baseline = import_seconds(baseline_path)
    sizes, layer = build_sizes()
    rows = []
    worst = 0.0
    for logical_id, function in sorted(Template().functions.items()):
        path = function.code_uri / "app.py"
        import_seconds(path)
        seconds = import_seconds(path)
        ratio = seconds / baseline
        worst = max(worst, ratio)
        rows.append(
            [
                logical_id,
                f"{seconds * 1000:.0f} ms",
                f"{ratio:.2f}×",
                "yes" if ratio <= TARGET else "**no**",
                f"{sizes.get(logical_id, 0) / 1024:.1f} KiB",
            ]
        )
    body = (
        f"Import time of each handler module in a fresh interpreter (median of {RUNS}), against "
        f"a bare Powertools + boto3 handler: **{baseline * 1000:.0f} ms**. Target ≤ {TARGET}×. "
        f"Shared layer (built, unzipped): **{layer / 1024 / 1024:.1f} MiB**; worst ratio "
        f"**{worst:.2f}×**.\n\n"
        + table(["function", "import", "vs baseline", f"≤ {TARGET}×", "package"], rows)
    )
    write_result("coldstart", "Cold start (import time) and package size", body)
    print(json.dumps({"baseline_ms": round(baseline * 1000, 1), "worst_ratio": round(worst, 2)}))


if __name__ == "__main__":
    main()
