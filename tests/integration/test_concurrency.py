"""Concurrent requests in one process never see each other's event (hub dev serves threads)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import make_merchant
from tests.support.api import InProcessApi


def test_parallel_requests_of_different_merchants_stay_apart(api: InProcessApi) -> None:
    merchants = [make_merchant(name=f"Parallel {i}") for i in range(6)]

    def round_trip(index: int) -> list[tuple[str, str]]:
        merchant = merchants[index % len(merchants)]
        seen = []
        for hours in range(1, 6):
            patched = api.patch(
                "/v1/admin/settings",
                api_key=merchant.api_key,
                json_body={"cart_window_hours": hours + index},
            )
            read = api.get("/v1/admin/settings", api_key=merchant.api_key)
            seen.append((merchant.merchant_id, patched.json["merchant_id"]))
            seen.append((merchant.merchant_id, read.json["merchant_id"]))
        return seen

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = [pair for batch in pool.map(round_trip, range(24)) for pair in batch]
    mixed = [(expected, got) for expected, got in results if expected != got]
    assert not mixed, f"{len(mixed)} of {len(results)} responses answered another merchant"
