"""DynamoDB writes with backoff (`customer_hub.infra.retries`), on fake clients:

- the one loop for batch requests: unprocessed items and keys are sent again, after an
  exponential backoff with jitter, until none is left;
- the one writer of transactions (`transact`, behind `Table.transact_write` /
  `transact_write_if`): a transaction cancelled by a conflict or by throttling is sent again
  after a jittered backoff with the same ClientRequestToken; one cancelled by a failed condition
  is not; the path without a conflict is one request."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

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


def _table(monkeypatch: pytest.MonkeyPatch, fake: object) -> Table:
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


# ------------------------------------------------------------------ transactions
OPERATIONS = [{"Put": {"TableName": "data", "Item": {"pk": {"S": "P"}, "sk": {"S": "S"}}}}]


def _cancelled(*reasons: str) -> ClientError:
    response: Any = {
        "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
        "CancellationReasons": [{"Code": code} for code in reasons],
    }
    return ClientError(response, "TransactWriteItems")


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "TransactWriteItems")


class FailingClient:
    """Raises the given errors, one a request, then accepts every request."""

    def __init__(self, *errors: ClientError) -> None:
        self.errors = list(errors)
        self.requests: list[dict[str, Any]] = []

    def transact_write_items(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self.errors:
            raise self.errors.pop(0)
        return {}

    @property
    def tokens(self) -> set[str]:
        return {str(r["ClientRequestToken"]) for r in self.requests}


def test_without_a_conflict_a_transaction_is_one_request(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    fake = FailingClient()
    assert _table(monkeypatch, fake).transact_write_if(OPERATIONS, token="merchant-1")
    assert fake.requests == [{"TransactItems": OPERATIONS, "ClientRequestToken": "merchant-1"}]
    assert sleeps == []


def test_conflicts_and_throttling_are_retried_with_one_token(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    fake = FailingClient(
        _cancelled("None", "TransactionConflict"),
        _cancelled("ThrottlingError", "None"),
        _error("ProvisionedThroughputExceededException"),
    )
    _table(monkeypatch, fake).transact_write(OPERATIONS)
    assert len(fake.requests) == 4
    assert len(fake.tokens) == 1  # generated once: a retry of a committed attempt is a no-op
    assert sleeps == [0.01, 0.02, 0.04]


def test_a_failed_condition_is_never_retried(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    fake = FailingClient(_cancelled("ConditionalCheckFailed", "TransactionConflict"))
    assert not _table(monkeypatch, fake).transact_write_if(OPERATIONS, token="t")
    assert len(fake.requests) == 1 and sleeps == []

    fake = FailingClient(_cancelled("ConditionalCheckFailed"))
    with pytest.raises(ClientError) as raised:
        _table(monkeypatch, fake).transact_write(OPERATIONS)
    assert store.is_condition_failed(raised.value)
    assert store.cancellation_reasons(raised.value) == ["ConditionalCheckFailed"]


def test_other_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> None:
    fake = FailingClient(_error("ValidationException"), _cancelled("ValidationError"))
    table = _table(monkeypatch, fake)
    with pytest.raises(ClientError):
        table.transact_write(OPERATIONS)
    assert not table.transact_write_if(OPERATIONS)  # cancelled, for a reason no retry cures
    assert len(fake.requests) == 2 and sleeps == []


def test_the_retries_end_and_the_last_answer_counts(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    conflicts = [_cancelled("TransactionConflict")] * retries.TRANSACTION_ATTEMPTS
    fake = FailingClient(*conflicts)
    assert not _table(monkeypatch, fake).transact_write_if(OPERATIONS, token="t")
    assert len(fake.requests) == retries.TRANSACTION_ATTEMPTS
    assert fake.tokens == {"t"}
    assert sleeps == [0.01, 0.02, 0.04]

    fake = FailingClient(*conflicts)
    with pytest.raises(ClientError) as raised:
        _table(monkeypatch, fake).transact_write(OPERATIONS)
    assert store.cancellation_reasons(raised.value) == ["TransactionConflict"]
    assert not store.is_condition_failed(raised.value)
