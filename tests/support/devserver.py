"""Starts `hub dev` as a subprocess and reads its ready line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hubdev.aws import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def hub_dev(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Run `hub dev` on a free port; yields the ready line (plus `logs`, the lines after it)."""
    port = free_port()
    command = [sys.executable, "-m", "hubdev.cli", "dev", "--port", str(port), *args]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # The session stack's function environment (SMILE_API_BASE_URL = Smile's real URL) may
        # be in os.environ: hub dev starts its own stand-in unless `env` names another Smile.
        env={**{k: v for k, v in os.environ.items() if k != "SMILE_API_BASE_URL"}, **(env or {})},
    )
    assert process.stdout is not None
    started = time.monotonic()
    first = process.stdout.readline()
    if not first.startswith('{"ready": true'):
        process.kill()
        rest = process.stdout.read()
        raise AssertionError(f"no ready line: {first!r}\n{rest[-3000:]}")
    ready = json.loads(first)
    ready["startup_seconds_observed"] = time.monotonic() - started
    ready["pid"] = process.pid  # the load benchmark reads the server's CPU time
    logs: list[str] = []
    ready["logs"] = logs

    def collect() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            logs.append(line)

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    try:
        yield ready
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        reader.join(timeout=5)
        ready["returncode"] = process.returncode
