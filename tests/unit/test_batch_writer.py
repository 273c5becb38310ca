"""The one loop for DynamoDB batch requests: unprocessed items and keys are sent again, after
an exponential backoff with jitter, until none is left."""

from __future__ import annotations

from typing import Any

import pytest

from customer_hub.infra import retries, store
from customer_hub.infra.store import Table, serialize


class ThrottledClient:
    """Answers each batch request leaving all but `accept` items (or keys) unprocessed."""

    def __init__(self, accept: int) -> None:
        self.accept = accept
        self.requests: list[int] = []
        self.stored: dict[tuple[str, str], dict[str, Any]] = {}

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((name, entries),) = RequestItems.items()
        self.requests.append(len(entries))
        for entry in entries[: self.accept]:
            item = entry["PutRequest"]["Item"]
            self.stored[(item["pk"]["S"], item["sk"]["S"])] = item
        rest = entries[self.accept :]
        return {"UnprocessedItems": {name: rest} if rest else {}}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((name, request),) = RequestItems.items()
        keys = request["Keys"]
        self.requests.append(len(keys))
        found = [self.stored[(k["pk"]["S"], k["sk"]["S"])] for k in keys[: self.accept]]
        rest = keys[self.accept :]
        unprocessed = {name: {**request, "Keys": rest}} if rest else {}
        return {"Responses": {name: found}, "UnprocessedKeys": unprocessed}


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(retries.time, "sleep", slept.append)
    monkeypatch.setattr(retries.random, "random", lambda: 1.0)
    return slept


def _table(monkeypatch: pytest.MonkeyPatch, fake: ThrottledClient) -> Table:
    monkeypatch.setattr(store, "client", lambda _service: fake)
    return Table("metrics")


def test_unprocessed_items_are_sent_again_with_growing_waits(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    fake = ThrottledClient(accept=4)
    items = [{"pk": "P", "sk": f"{n:02d}", "n": n} for n in range(30)]
    requests = _table(monkeypatch, fake).batch_put(items)
    assert len(fake.stored) == 30
    # 25 then 5 items; each request accepts 4: 7 requests for the first 25, 2 for the rest.
    assert fake.requests == [25, 21, 17, 13, 9, 5, 1, 5, 1]
    assert requests == 9
    assert sleeps == [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.01]


def test_unprocessed_keys_are_read_again(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    fake = ThrottledClient(accept=60)
    fake.stored = {("P", f"{n:03d}"): serialize({"pk": "P", "sk": f"{n:03d}"}) for n in range(150)}
    table = _table(monkeypatch, fake)
    found = table.batch_get([("P", f"{n:03d}") for n in range(150)] + [("P", "000")])
    assert sorted(str(i["sk"]) for i in found) == [f"{n:03d}" for n in range(150)]
    assert fake.requests == [100, 40, 50]
    assert sleeps == [0.01]


def test_the_wait_is_capped_and_jittered(
    sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    for attempt in (0, 5, 6, 30):
        retries.backoff(attempt)
    assert sleeps == [0.01, 0.32, 0.5, 0.5]
    monkeypatch.setattr(retries.random, "random", lambda: 0.25)
    retries.backoff(3)
    assert sleeps[-1] == pytest.approx(0.02)
