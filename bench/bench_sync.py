"""Smile.io sync cost: Smile requests, wall time and DynamoDB writes per synced customer.

For N customers (default 1 000 and 10 000) on the local stand-in (real 10 requests/second
limit) and moto: a first, full sync (N changed customers), then an incremental sync after 10 %
of them changed. Wall time is compared with the theoretical minimum of the same run
(Smile requests ÷ 10 per second); DynamoDB writes are counted per request type by a botocore
hook. moto is far slower than DynamoDB, so wall time above the minimum is mostly moto's.

    .venv/bin/python -m bench.bench_sync [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.common import write_result
from hubdev.smile_standin import SmileStandIn
from hubdev.stack import LocalStack

WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass
class Run:
    label: str
    customers: int
    changed: int
    smile_requests: int
    customer_pages: int
    seconds: float
    writes: Counter[str]
    reads: Counter[str]

    @property
    def minimum_seconds(self) -> float:
        return self.smile_requests / 10

    @property
    def write_requests(self) -> int:
        return sum(self.writes.values())


class DynamoCounter:
    """Counts DynamoDB calls made through customer_hub's client, by operation."""

    def __init__(self) -> None:
        from customer_hub.infra.aws import client

        self.calls: Counter[str] = Counter()
        client("dynamodb").meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_kwargs: Any) -> None:
        self.calls[model.name] += 1

    def take(self) -> tuple[Counter[str], Counter[str]]:
        writes = Counter({k: v for k, v in self.calls.items() if k in WRITE_OPERATIONS})
        reads = Counter({k: v for k, v in self.calls.items() if k not in WRITE_OPERATIONS})
        self.calls.clear()
        return writes, reads


def sync_once(
    label: str, merchant_id: str, api_key: str, standin: SmileStandIn, counter: DynamoCounter,
    customers: int, changed: int,
) -> Run:  # fmt: skip
    from customer_hub.smile import SmileClient
    from customer_hub.smile.sync import Sync, load_state

    account = standin.account(api_key)
    before = len(standin.requests(account, "/customers"))
    counter.take()
    started = time.monotonic()
    with SmileClient(api_key, base_url=standin.url) as smile:
        outcome = Sync(merchant_id, smile).run()
        requests = smile.requests_made
    seconds = time.monotonic() - started
    writes, reads = counter.take()
    state = load_state(merchant_id)
    assert outcome == "done" and state.customers_synced == changed, (outcome, state)
    pages = len(standin.requests(account, "/customers")) - before
    return Run(label, customers, changed, requests, pages, seconds, writes, reads)


def bench_size(size: int, standin: SmileStandIn, counter: DynamoCounter) -> list[Run]:
    from customer_hub.merchants.profiles import NewMerchant, create_merchant

    merchant = create_merchant(
        NewMerchant(
            name=f"Bench {size}",
            shop_domain=f"bench-{uuid.uuid4().hex[:8]}.myshopify.com",
            timezone="UTC",
            currency="USD",
        )
    )
    api_key = f"sk_bench_{uuid.uuid4().hex}"
    account = standin.add_account(api_key, customers=size)
    runs = [sync_once("full", merchant.merchant_id, api_key, standin, counter, size, size)]
    changed = sorted(account.customers)[::10]
    for customer_id in changed:
        customer = account.customers[customer_id]
        account.update_customer(customer_id, points_balance=customer["points_balance"] + 10)
    time.sleep(0.01)
    runs.append(
        sync_once(
            "incremental", merchant.merchant_id, api_key, standin, counter, size, len(changed)
        )
    )
    return runs


def report(runs: list[Run]) -> str:
    lines = [
        "`make bench` (`bench/bench_sync.py`): the sync against the local Smile stand-in (real",
        "10 requests/second limit, 250 per page) and moto. *Minimum* is Smile requests ÷ 10 per",
        "second, the bound the rate limit sets (a sync of a few requests beats it: up to 10 go",
        "out in the first second). moto's DynamoDB is far slower than the real one, so the time",
        "above the minimum is mostly moto's. Every sync re-reads the program (6 requests).",
        "",
        "| sync | customers | changed | Smile requests | customer pages | wall s | minimum s |"
        " wall ÷ minimum | DynamoDB write requests | writes per synced customer | reads |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.label} | {run.customers} | {run.changed} | {run.smile_requests} | "
            f"{run.customer_pages} | {run.seconds:.1f} | {run.minimum_seconds:.1f} | "
            f"{run.seconds / run.minimum_seconds:.1f} | {run.write_requests} | "
            f"{run.write_requests / max(1, run.changed):.2f} | {sum(run.reads.values())} |"
        )
    lines += ["", "Write requests by type:", ""]
    for run in runs:
        detail = ", ".join(f"{k} {v}" for k, v in sorted(run.writes.items()))
        lines.append(f"- {run.label}, {run.customers} customers: {detail}")
    lines += [
        "",
        "Full syncs also write the demo's coupons (about one per two customers).",
        "Per synced customer: one conditional PutItem of its snapshot (never backwards), plus",
        "its id → email index entry in BatchWriteItem requests of 25 when it is new or its email",
        "changed; coupons are one PutItem (new) or UpdateItem (changed) each; one PutItem of",
        "the sync progress per page.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    standin = SmileStandIn().start()
    os.environ["SMILE_API_BASE_URL"] = standin.url
    stack = LocalStack()
    try:
        counter = DynamoCounter()
        runs = [run for size in args.sizes for run in bench_size(size, standin, counter)]
    finally:
        stack.stop()
        standin.stop()
    path = write_result("sync", "Smile.io sync", report(runs))
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
