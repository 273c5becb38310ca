"""Load on one Smile key from many limiter instances, measured where Smile would measure it.

The Smile stand-in runs in a process of its own and times each request by when its first
packet reached the socket (the kernel's receive timestamp), as Smile's edge would, not by
when a stand-in thread got round to it; and `processes` worker processes run
`threads` limiter instances each (one instance per thread, as separate Lambda instances would
have), all calling Smile on one key through `SharedRateLimiter` in the DynamoDB table `table`
(the endpoint comes from AWS_ENDPOINT_URL). Used by tests/integration/test_smile_limiter.py
and bench/bench_limiter.py.

    python -m hubdev.limiter_load standin <latency>  # prints its URL, serves until stdin closes
    python -m hubdev.limiter_load worker <args>    # see `_worker`
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LoadResult:
    arrivals: list[float]  # seconds since the first arrival, in arrival order
    statuses: list[int]
    max_per_second: int  # the most arrivals in any 1-second window
    grants: int = 0
    limiter_requests: int = 0  # DynamoDB requests of the limiters
    fallbacks: int = 0
    late: int = 0  # grants given up: stale when the request was about to leave
    pushes: int = 0  # requests that left > SEND_ALLOWANCE_SECONDS after their slot
    queued: list[float] = field(default_factory=list)  # the stand-in's own delay per request
    update_ms: list[float] = field(default_factory=list)  # each limiter UpdateItem's time
    errors: list[str] = field(default_factory=list)
    waits: dict[str, list[float]] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        span = self.arrivals[-1] - self.arrivals[0] if len(self.arrivals) > 1 else 0.0
        return (len(self.arrivals) - 1) / span if span else 0.0

    @property
    def requests_per_grant(self) -> float:
        return self.limiter_requests / self.grants if self.grants else 0.0


def protocol_channel() -> TextIO:
    """The worker's line to the parent (its stdout pipe); everything else this process writes
    to stdout (Powertools' metrics, one line per Smile call) goes to /dev/null from now on. The
    parent reads the pipe only at the end: filled (64 KiB), it blocked every thread that
    logged, and calls looked as if they had waited a minute for their slot."""
    sys.stdout.flush()
    channel = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    return channel


def _env() -> dict[str, str]:
    paths = [str(ROOT / p) for p in ("layers/shared", "devtools", ".")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    env.pop("SMILE_RATE_LIMIT", None)  # limiters are chosen explicitly (`limiter`)
    return env


def _standin(latency: float) -> None:
    from hubdev.smile_standin import SmileStandIn

    api_key = sys.stdin.readline().strip()
    with SmileStandIn() as standin:
        account = standin.add_account(api_key)
        account.faults.update({"slow_seconds": latency, "slow_rate": 1.0})  # Smile's latency
        print(standin.url, flush=True)
        sys.stdin.read()  # until the caller closes stdin
        logged = standin.requests(account)
        print(
            json.dumps(
                {
                    "at": [r.at for r in logged],
                    "statuses": [r.status for r in logged],
                    "queued": [r.queued for r in logged],
                    "max": standin.max_requests_in_window(account, 1.0),
                }
            ),
            flush=True,
        )


def _worker(argv: list[str]) -> None:
    from customer_hub.smile.budget import READ_WAIT_SECONDS
    from customer_hub.smile.client import RetryPolicy, SmileClient
    from customer_hub.smile.errors import SmileBusy, SmileError
    from customer_hub.smile.ratelimit import LimiterStats, SharedRateLimiter

    table, digest, api_key, url, seconds, threads, priorities, shared = argv
    kinds = priorities.split(",")
    # "shared": one limiter instance per thread (threads stand for separate Lambdas);
    # "shared-overlap": the threads share one (one caller with that many requests in flight);
    # "local": the per-process limiter of before (threads of one process share it)
    errors: list[str] = []
    waits: dict[str, list[float]] = {}
    one = SharedRateLimiter(table, digest)
    clients = [
        SmileClient(
            api_key,
            base_url=url,
            limiter={"shared": SharedRateLimiter(table, digest), "shared-overlap": one}.get(shared),
            priority=kinds[n % len(kinds)],  # type: ignore[arg-type]
            retry=RetryPolicy(max_attempts=1),
        )
        for n in range(int(threads))
    ]
    channel = protocol_channel()
    print("ready", file=channel, flush=True)
    start = float(sys.stdin.readline())
    lock = threading.Lock()

    def work(smile: SmileClient) -> None:
        time.sleep(max(0.0, start - time.time()))
        while time.time() < start + float(seconds):
            began = time.monotonic()
            refused = False
            try:
                if smile.priority == "urgent":
                    smile.request("POST", "/points_settings_probe", retry_unsafe=False)
                elif smile.priority == "interactive":  # a storefront view: a client of its own
                    with SmileClient(
                        api_key,
                        base_url=url,
                        limiter=smile.limiter,
                        retry=RetryPolicy(max_attempts=1),
                        wait_budget=READ_WAIT_SECONDS,
                    ) as view:
                        view.get_points_settings()
                else:
                    smile.get_points_settings()
            except Exception as exc:
                refused = isinstance(exc, SmileBusy)
                probe = isinstance(exc, SmileError) and 400 <= (exc.status or 0) < 500
                if smile.priority != "urgent" or not probe:  # the probe POST's 4xx is its answer
                    with lock:
                        errors.append(f"{type(exc).__name__} ({smile.priority})")
            with lock:
                waits.setdefault(smile.priority, []).append(time.monotonic() - began)
            if smile.priority == "urgent":
                time.sleep(1.0)  # a redemption now and then, not a flood
            elif smile.priority == "interactive" and refused:
                time.sleep(0.1)  # served from the snapshot; the next shopper's view
        smile.close()

    workers = [threading.Thread(target=work, args=(c,)) for c in clients]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(
        json.dumps(
            {
                "grants": LimiterStats.grants,
                "requests": LimiterStats.dynamodb_requests,
                "fallbacks": LimiterStats.fallbacks,
                "late": LimiterStats.late,
                "pushes": LimiterStats.pushes,
                "update_ms": LimiterStats.update_ms,
                "errors": errors,
                "waits": waits,
            }
        ),
        file=channel,
        flush=True,
    )


def run_load(
    table: str,
    *,
    processes: int,
    threads: int,
    seconds: float,
    priorities: tuple[str, ...] = ("background",),
    limiter: str = "shared",
    latency: float = 0.0,
) -> LoadResult:
    """Run the load on a fresh key and return what the stand-in saw and the limiters did;
    the stand-in answers each request `latency` seconds after it arrived (Smile's latency)."""
    import hashlib

    api_key = f"sk_test_{uuid.uuid4().hex}"
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    launch = [sys.executable, "-m", "hubdev.limiter_load"]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    standin = subprocess.Popen([*launch, "standin", str(latency)], env=_env(), **pipes)  # type: ignore[call-overload]
    assert standin.stdin is not None and standin.stdout is not None
    standin.stdin.write(api_key + "\n")
    standin.stdin.flush()
    url = standin.stdout.readline().strip()
    args = [table, digest, api_key, url, str(seconds), str(threads), ",".join(priorities), limiter]
    workers = [
        subprocess.Popen([*launch, "worker", *args], env=_env(), **pipes)  # type: ignore[call-overload]
        for _ in range(processes)
    ]
    for worker in workers:
        assert worker.stdout.readline().strip() == "ready"
    begin = f"{time.time() + 0.5}\n"  # every process imported and ready: start together
    for worker in workers:
        worker.stdin.write(begin)
        worker.stdin.close()
    reports = []
    for worker in workers:
        out = worker.stdout.read()
        worker.wait(timeout=seconds + 60)
        reports.append(json.loads(out.strip().splitlines()[-1]))
    standin.stdin.close()
    seen: dict[str, Any] = json.loads(standin.stdout.read().strip().splitlines()[-1])
    standin.wait(timeout=30)
    first = seen["at"][0] if seen["at"] else 0.0
    result = LoadResult(
        arrivals=[at - first for at in seen["at"]],
        statuses=seen["statuses"],
        max_per_second=int(seen["max"]),
        queued=seen["queued"],
    )
    for report in reports:
        result.grants += report["grants"]
        result.limiter_requests += report["requests"]
        result.fallbacks += report["fallbacks"]
        result.late += report["late"]
        result.pushes += report["pushes"]
        result.update_ms += report["update_ms"]
        result.errors += report["errors"]
        for kind, waits in report["waits"].items():
            result.waits.setdefault(kind, []).extend(waits)
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["standin"]:
        _standin(float(sys.argv[2]))
    else:
        _worker(sys.argv[2:])
