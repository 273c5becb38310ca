"""Benchmark of the dashboard at merchant scale (issue 18): 1 K, 1 M and 10 M accounts.

Overview: the active-account block shards a 366-day overview with its previous-period
comparison reads are written synthetically (bitmaps of a given density per block level, each
block a different pattern so the OR of a range is more than any block), with day items for both
years and the totals; `customer_hub.metrics.dashboard.overview` then runs in process against moto
(`mock_aws`). The exact distinct counts are checked against the OR of the same bitmaps held in
memory. Same-run baseline: the size one unsharded block item (the layout before sharding)
would have at that scale — over DynamoDB's 400 KB item limit from a few million accounts.

Inactive accounts: 99 % of the accounts active in the last day, indexed by last visit;
requests and bytes per page of 100 through the `idle` index, next to the same-run baseline of
the former scan of the accounts partition (pages of 100 in sort-key order until 100 matches).

Writes `bench/results/scale.md` (overview) and `bench/results/inactive.md`. Usage:
`python -m bench.bench_scale [overview|inactive]` (both by default).
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.bench_rollups import RequestCounter, _environment
from bench.common import table, write_result

ZONE = "Europe/Warsaw"
TODAY = date(2026, 11, 23)
SCALES = {"1 K": 1_000, "1 M": 1_000_000, "10 M": 10_000_000}
ITEM_LIMIT = 400 * 1024


def _create_tables() -> None:
    import boto3

    dynamodb = boto3.client("dynamodb")
    keys = [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ]
    schema = [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    for name in ("bench-data", "bench-events"):
        dynamodb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=keys,
            KeySchema=schema,
        )
    dynamodb.create_table(
        TableName="bench-metrics",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[*keys, {"AttributeName": "idle_sk", "AttributeType": "S"}],
        KeySchema=schema,
        GlobalSecondaryIndexes=[
            {
                "IndexName": "idle",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "idle_sk", "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": ["email", "last_opened_at"],
                },
            }
        ],
    )


def _block_bitmap(level: int, start: int, low: int, high: int) -> Any:
    """A block shard's synthetic active ordinals: denser for longer blocks (1-day blocks
    ~10 %, 256-day blocks ~50 %), a pattern that differs from block to block."""
    from pyroaring import BitMap

    step = max(2, round(10 / (1 + level) ** 0.7))
    offset = (start * 7 + level) % step
    return BitMap(range(low + offset, high, step))


def _seed_overview(merchant_id: str, accounts: int) -> tuple[list[int], int, int]:
    """Write what a 366-day overview with comparison reads; returns (expected active counts of
    both ranges, largest item written, size of one unsharded block item: the old layout)."""
    from pyroaring import BitMap

    from customer_hub.infra.store import Table
    from customer_hub.metrics.keys import TOTALS_SK, active_pk, day_pk, totals_pk
    from customer_hub.metrics.model import SHARD_BITS, block_sk, covering_blocks, shard_count

    table_ = Table("bench-metrics")
    first = TODAY - timedelta(days=365)
    ranges = [(first, TODAY), (first - timedelta(days=366), first - timedelta(days=1))]
    day = ranges[1][0]
    while day <= TODAY:
        table_.put({"pk": day_pk(merchant_id), "sk": day.isoformat(), "si_help_clicked": 3})
        day += timedelta(days=1)
    table_.put(
        {
            "pk": totals_pk(merchant_id),
            "sk": TOTALS_SK,
            "accounts": accounts,
            "next_ordinal": accounts,
        }
    )
    largest = unsharded = 0
    expected = []
    size = 1 << SHARD_BITS
    for first_day, last_day in ranges:
        union = BitMap()
        for block in covering_blocks(first_day, last_day):
            level, start = block
            whole = 0
            for shard in range(shard_count(accounts)):
                bitmap = _block_bitmap(
                    level, start, shard * size, min(accounts, (shard + 1) * size)
                )
                data = bitmap.serialize()
                whole += len(data)
                largest = max(largest, len(data) + 100)
                union |= bitmap
                table_.put(
                    {
                        "pk": active_pk(merchant_id),
                        "sk": block_sk(block, shard),
                        "bitmap": data,
                        "count": len(bitmap),
                        "version": 1,
                    }
                )
            unsharded = max(unsharded, whole)
        expected.append(len(union))
    return expected, largest, unsharded


def _new_merchant(name: str, shop: str) -> Any:
    from customer_hub.merchants.profiles import NewMerchant, create_merchant

    return create_merchant(
        NewMerchant(name=name, shop_domain=f"{shop}.myshopify.com", timezone=ZONE, currency="USD")
    )


def _noon() -> datetime:
    return datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)


def _overview_rows(counter: RequestCounter) -> list[list[object]]:
    from customer_hub.merchants.profiles import (
        SettingsPatch,
        get_merchant,
        update_settings,
    )
    from customer_hub.metrics import dashboard
    from customer_hub.metrics.model import shard_count
    from customer_hub.metrics.periods import resolve_period

    rows: list[list[object]] = []
    for n, (scale, accounts) in enumerate(SCALES.items()):
        created = _new_merchant(f"Scale {scale}", f"scale{n}")
        update_settings(created.merchant_id, SettingsPatch(hub_status="live"))
        expected, largest, unsharded = _seed_overview(created.merchant_id, accounts)
        timings = []
        for _ in range(3):
            counter.reset()
            started = time.perf_counter()
            merchant = get_merchant(created.merchant_id)
            when = resolve_period(
                timezone=ZONE,
                now=_noon(),
                period="custom",
                start=(TODAY - timedelta(days=365)).isoformat(),
                end=TODAY.isoformat(),
            )
            body = dashboard.overview(merchant, when)
            timings.append((time.perf_counter() - started) * 1000)
        got = [body["active_accounts"]["value"], body["active_accounts"]["previous"]]
        assert got == expected, (scale, got, expected)
        calls = ", ".join(f"{k} {v}" for k, v in sorted(counter.calls.items()))
        rows.append(
            [
                scale,
                shard_count(accounts),
                counter.total,
                calls,
                f"{counter.bytes:,}",
                f"{largest / 1024:.1f} KiB",
                f"{unsharded / 1024:,.1f} KiB"
                + (" (over 400 KB)" if unsharded > ITEM_LIMIT else ""),
                f"{statistics.median(timings):.0f}",
                f"{got[0]:,} / {got[1]:,}",
            ]
        )
    return rows


def _accounts(accounts: int) -> list[dict[str, Any]]:
    """Account items as the roll-ups write them: 1 % last seen 120 days ago, 99 % today."""
    from customer_hub.infra import clock
    from customer_hub.metrics.keys import idle_sk

    now = clock.now()
    recent = clock.iso(now - timedelta(hours=2))
    old = clock.iso(now - timedelta(days=120))
    items = []
    for n in range(accounts):
        customer = f"{7_000_000_000 + n * 7919 % accounts:013d}"
        last = old if n % 100 == 0 else recent
        items.append(
            {
                "sk": customer,
                "customer_id": customer,
                "ordinal": n,
                "email": f"shopper{n}@example.com",
                "last_opened_at": last,
                "idle_sk": idle_sk(customer, last),
            }
        )
    return items


class QueryFaithfulDynamoDB:
    """A DynamoDB client that answers `Query` — and nothing else — on one accounts partition
    and its `idle` index as DynamoDB does: key conditions `pk = :pk [AND <sort key> BETWEEN
    :lo AND :hi]`, ascending order, `Limit`, `ExclusiveStartKey`, `LastEvaluatedKey` when the
    page reached its Limit (even if nothing follows; moto looks ahead), the index's projection
    (keys + email, last_opened_at), answers in the wire format. The real `Table` adapter and `dashboard.inactive_accounts` run on it
    unchanged; it counts requests and response bytes (the JSON moto would send). moto answers
    an index Query by going through every item of the table and sorting the partition (minutes
    per request at a million accounts, and ~3 GB to hold them), so the million-account rows
    use this; the benchmark checks it gives moto's answers, byte for byte, at 10 000 and
    100 000 accounts (the index pages; the scan, one request apart at most)."""

    PROJECTED = ("pk", "sk", "idle_sk", "email", "last_opened_at")

    def __init__(self, pk: str, items: list[dict[str, Any]]) -> None:
        self.pk = pk
        self.by_sk = sorted(items, key=lambda i: i["sk"])
        self.by_idle = sorted(items, key=lambda i: i["idle_sk"])
        self.keys = {
            "sk": [i["sk"] for i in self.by_sk],
            "idle_sk": [i["idle_sk"] for i in self.by_idle],
        }
        self.requests = 0
        self.bytes = 0

    def query(self, **kwargs: Any) -> dict[str, Any]:
        import bisect
        import json
        import re

        from customer_hub.infra.store import serialize

        allowed = {"TableName", "KeyConditionExpression", "ExpressionAttributeValues"}
        allowed |= {"ScanIndexForward", "IndexName", "ConsistentRead", "Limit"}
        allowed |= {"ExclusiveStartKey"}
        assert set(kwargs) <= allowed and kwargs.get("ScanIndexForward", True), kwargs
        index = kwargs.get("IndexName")
        assert index in (None, "idle"), index
        name = "idle_sk" if index else "sk"
        match = re.fullmatch(
            rf"pk = :pk(?: AND {name} BETWEEN :lo AND :hi)?", kwargs["KeyConditionExpression"]
        )
        assert match, kwargs["KeyConditionExpression"]
        values = {k: v["S"] for k, v in kwargs["ExpressionAttributeValues"].items()}
        rows = self.by_idle if index else self.by_sk
        keys = self.keys[name]
        first, last = 0, len(keys)
        if values[":pk"] != self.pk:
            first = last = 0
        elif ":lo" in values:
            first = bisect.bisect_left(keys, values[":lo"])
            last = bisect.bisect_right(keys, values[":hi"])
        start = kwargs.get("ExclusiveStartKey")
        if start:
            first = max(first, bisect.bisect_right(keys, start[name]["S"]))
        limit = kwargs.get("Limit") or len(keys)
        page = rows[first : min(last, first + limit)]
        items = [serialize({"pk": self.pk, **r}) for r in page]
        if index:
            items = [{k: v for k, v in i.items() if k in self.PROJECTED} for i in items]
        response: dict[str, Any] = {"Count": len(items), "Items": items, "ScannedCount": len(items)}
        if len(items) == limit:
            last_key = {"pk": items[-1]["pk"], "sk": items[-1]["sk"]}
            if index:
                last_key["idle_sk"] = items[-1]["idle_sk"]
            response["LastEvaluatedKey"] = last_key
        self.requests += 1
        self.bytes += len(json.dumps(response).encode())
        return response


def _old_scan_page(table_: Any, pk: str, cutoff: str) -> int:
    """The former algorithm: read the accounts partition 100 at a time until 100 matches."""
    start = None
    found = 0
    while found < 100:
        items, start = table_.query(pk, limit=100, start_key=start)
        found += sum(1 for i in items if str(i.get("last_opened_at") or "") < cutoff)
        if not start:
            break
    return found


def _pages(merchant: Any, count: int) -> list[list[str]]:
    from customer_hub.metrics import dashboard

    cursor, pages = None, []
    for _ in range(count):
        page = dashboard.inactive_accounts(merchant, 30, cursor)
        assert len(page["accounts"]) == 100
        pages.append([a["customer_id"] for a in page["accounts"]])
        cursor = page["next_cursor"]
    return pages


def _write_accounts(pk: str, items: list[dict[str, Any]]) -> None:
    """The accounts as the roll-ups store them, through the real client (BatchWriteItem)."""
    from customer_hub.infra.store import Table, serialize

    table_ = Table("bench-metrics")
    for start in range(0, len(items), 25):
        request = {
            table_.name: [
                {"PutRequest": {"Item": serialize({"pk": pk, **i})}}
                for i in items[start : start + 25]
            ]
        }
        while request:
            request = table_._client.batch_write_item(RequestItems=request).get("UnprocessedItems")


def _inactive_rows(counter: RequestCounter) -> list[list[object]]:
    from unittest import mock

    from customer_hub.infra import clock
    from customer_hub.infra.store import Table
    from customer_hub.merchants.profiles import get_merchant
    from customer_hub.metrics.keys import accounts_pk
    from hubdev.aws import install_query_and_transaction_shortcuts

    # `hub dev`'s moto: a base-table Query reads its partition only; answers are unchanged.
    install_query_and_transaction_shortcuts()
    cutoff = clock.iso(clock.now() - timedelta(days=30))
    rows: list[list[object]] = []
    for accounts in (10_000, 100_000, 1_000_000):
        created = _new_merchant(f"Inactive {accounts}", f"inactive{accounts}")
        merchant = get_merchant(created.merchant_id)
        pk = accounts_pk(created.merchant_id)
        items = _accounts(accounts)
        pages = min(5, accounts // 100 // 100)  # 1 % inactive: accounts / 10 000 full pages
        fake = QueryFaithfulDynamoDB(pk, items)
        with mock.patch.object(Table, "_client", fake):
            fake_pages = _pages(merchant, pages)
            fake_index = (fake.requests, fake.bytes)
            fake.requests = fake.bytes = 0
            assert _old_scan_page(Table("bench-metrics"), pk, cutoff) == 100
            fake_scan = (fake.requests, fake.bytes)
        if accounts <= 100_000:
            started = time.perf_counter()
            _write_accounts(pk, items)
            written = time.perf_counter() - started
            counter.reset()
            assert _pages(merchant, pages) == fake_pages, "the fake pages as moto does"
            assert (counter.total, counter.bytes) == fake_index, ((counter.total, counter.bytes),)
            rows.append(
                [
                    f"{accounts:,}",
                    f"moto ({written:.0f} s to write them)",
                    "`idle` index",
                    f"{counter.total / pages:.0f}",
                    f"{counter.bytes / pages:,.0f}",
                ]
            )
            counter.reset()
            assert _old_scan_page(Table("bench-metrics"), pk, cutoff) == 100
            # A scan that reads the partition to its end: DynamoDB (and the fake) answer a
            # last full page with a LastEvaluatedKey, hence one more, empty, request; moto
            # looks ahead and does not.
            assert 0 <= fake_scan[0] - counter.total <= 1, (counter.total, fake_scan)
            rows.append(
                [
                    f"{accounts:,}",
                    "moto",
                    "partition scan (before)",
                    counter.total,
                    f"{counter.bytes:,}",
                ]
            )
        else:
            for read, (requests, size) in (
                ("`idle` index", (fake_index[0] / pages, fake_index[1] / pages)),
                ("partition scan (before)", fake_scan),
            ):
                rows.append(
                    [
                        f"{accounts:,}",
                        "Query-faithful fake",
                        read,
                        f"{requests:.0f}",
                        f"{size:,.0f}",
                    ]
                )
    return rows


def run(parts: tuple[str, ...] = ("overview", "inactive")) -> dict[str, str]:
    """The reports of the parts asked for: `overview` (scale.md), `inactive` (inactive.md)."""
    _environment()
    from moto import mock_aws

    with mock_aws():
        from customer_hub.infra.aws import client
        from customer_hub.infra.config import config
        from tests.support import item_sizes

        config.cache_clear()
        _create_tables()
        counter = RequestCounter(client("dynamodb"))
        item_sizes.watch(client("dynamodb"))  # every item written, sized; > 350 KB fails
        overview = _overview_rows(counter) if "overview" in parts else []
        inactive = _inactive_rows(counter) if "inactive" in parts else []
        item_sizes.record(f"bench/bench_scale ({', '.join(parts)})")
    from customer_hub.metrics.model import SHARD_BITS

    reports: dict[str, str] = {}
    if overview:
        reports["scale"] = "\n".join(
            [
                "`customer_hub.metrics.dashboard.overview` for a 366-day period with its previous-period "
                "comparison (profile read included), in process against moto (`mock_aws`), "
                f"median of 3; synthetic active-account bitmaps, {1 << SHARD_BITS:,} ordinals "
                "per shard item. The active counts equal the OR of the same bitmaps computed in "
                "memory.",
                "",
                table(
                    [
                        "accounts",
                        "shards",
                        "DynamoDB requests",
                        "by operation",
                        "bytes read",
                        "largest item written",
                        "one unsharded block item (before)",
                        "median ms",
                        "active now / before",
                    ],
                    overview,
                ),
                "",
                "Up to ~1 M accounts (both ranges' block shards fit one BatchGetItem of 100 "
                "keys): 5 requests (profile, totals, one Query of day items per range, one "
                "BatchGetItem). Beyond, one more BatchGetItem per 100 block shards: the requests "
                "grow with accounts ÷ shard size, never with events; no item exceeds ~33 KB "
                "whatever the merchant's size.",
            ]
        )
    if inactive:
        reports["inactive"] = "\n".join(
            [
                "Inactive accounts, 99 % of the accounts active in the last day, `days=30`, "
                "pages of 100 (up to 5 pages per size), through the real code path: "
                "`dashboard.inactive_accounts` and the `Table` adapter with the real DynamoDB "
                "client. At 10 000 and 100 000 accounts the accounts are written to moto "
                "through the client (BatchWriteItem) and the pages read from it; at 1 000 000, "
                "moto would take minutes per index Query and gigabytes of memory, so the same "
                "client calls go to `QueryFaithfulDynamoDB`, a DynamoDB client that implements "
                "Query only, checked in the same run to give moto's pages, requests and "
                "response bytes exactly at 10 000 and 100 000 accounts. Bytes are the Query "
                "responses as moto sends them.",
                "",
                table(
                    ["accounts", "DynamoDB", "read", "requests per page", "bytes per page"],
                    inactive,
                ),
                "",
                "The index page is one Query whatever the number of accounts (same requests "
                "and bytes per page at 10 000, 100 000 and 1 000 000); the scan it replaces "
                "reads ~100 accounts per match at 99 % active (and the whole partition when "
                "fewer than 100 accounts are inactive).",
            ]
        )
    return reports


def main() -> None:
    """`python -m bench.bench_scale [overview|inactive]` (both by default)."""
    import sys

    titles = {
        "scale": "Dashboard at merchant scale (issue 18)",
        "inactive": "Inactive accounts at merchant scale (issue 18)",
    }
    for name, report in run(tuple(sys.argv[1:]) or ("overview", "inactive")).items():
        write_result(name, titles[name], report)
        print(report)


if __name__ == "__main__":
    main()
