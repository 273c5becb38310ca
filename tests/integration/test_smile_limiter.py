"""One Smile budget per API key, shared by every instance (issue 18 item 3).

Limiter instances in threads and in separate processes (as separate Lambdas would be) call the
Smile stand-in on one key through the DynamoDB-backed limiter (moto server); the stand-in logs
each arrival by when its first packet reached the socket, so the rate is measured where Smile
would measure it (`hubdev.limiter_load` runs the stand-in in a process of its own).
How fast the budget is used (sync alone >= 9 requests/s) is measured by `make bench`.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from customer_hub.infra.aws import client
from customer_hub.infra.config import config
from customer_hub.smile import access as smile_access
from customer_hub.smile.access import READ_BUDGET_SECONDS
from customer_hub.smile.budget import READ_WAIT_SECONDS
from customer_hub.smile.client import SmileClient
from customer_hub.smile.errors import SmileBusy
from customer_hub.smile.ratelimit import (
    HORIZON_SECONDS,
    LimiterBusy,
    LimiterStats,
    RateLimiter,
    SharedRateLimiter,
    limiter_for,
    wait_budget,
)
from hubdev.limiter_load import run_load
from hubdev.smile_standin import SmileStandIn
from hubdev.stack import LocalStack
from tests.support.api import InProcessApi, assert_problem
from tests.support.storefront import Shop


@pytest.mark.slow
def test_instances_in_threads_and_processes_never_exceed_10_requests_in_any_second(
    stack: LocalStack,
) -> None:
    load = run_load(config().data_table, processes=3, threads=4, seconds=10)
    assert load.fallbacks == 0 and load.errors == []
    assert 429 not in load.statuses
    assert load.max_per_second <= 10
    assert load.grants == len(load.arrivals)
    # 12 instances contend for ~9 slots a second: each refused booking costs a request (4-7
    # per Smile request on this loaded machine, `make bench` counts it), never a retry storm.
    assert load.requests_per_grant < 10, "the limiter's own DynamoDB cost per Smile request"


def _arrivals(standin: SmileStandIn, api_key: str) -> list[Any]:
    return [r for r in standin.requests() if r.account == standin.account(api_key).name]


def _schedule_end(limiter: SharedRateLimiter) -> int:
    item = client("dynamodb").get_item(
        TableName=limiter.table_name,
        Key={"pk": {"S": limiter.pk}, "sk": {"S": "BUCKET"}},
        ConsistentRead=True,
    )["Item"]
    return int(item["tat"]["N"])


def test_the_sync_alone_books_one_slot_per_request(
    stack: LocalStack, smile_standin: SmileStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMILE_RATE_LIMIT", "shared")
    api_key = f"sk_test_{uuid.uuid4().hex}"
    smile_standin.add_account(api_key)
    limiter = limiter_for(api_key)
    assert isinstance(limiter, SharedRateLimiter)
    LimiterStats.reset()
    with SmileClient(api_key, base_url=smile_standin.url, priority="background") as smile:
        for _ in range(25):
            smile.get_points_settings()
    assert len(_arrivals(smile_standin, api_key)) == LimiterStats.grants == 25
    assert smile_standin.max_requests_in_window(smile_standin.account(api_key), 1.0) <= 10
    # One UpdateItem per Smile request; on a loaded machine, up to two more per slot a late
    # wake let pass (re-anchoring the schedule, else booking again) and one per late send.
    late = 2 * LimiterStats.late + LimiterStats.pushes
    assert LimiterStats.dynamodb_requests <= 1 + 25 + late


def test_a_grant_gone_stale_before_the_request_leaves_is_not_used(
    stack: LocalStack, smile_standin: SmileStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The instance is paused between its grant and the send (a descheduled process): the
    request does not go out on a slot 200 ms old, it books a fresh one."""
    monkeypatch.setenv("SMILE_RATE_LIMIT", "shared")
    api_key = f"sk_test_{uuid.uuid4().hex}"
    smile_standin.add_account(api_key)
    limiter = limiter_for(api_key)
    assert isinstance(limiter, SharedRateLimiter)
    paused: list[bool] = []

    def pause(_request: httpx.Request) -> None:
        if not paused:
            paused.append(True)
            time.sleep(0.2)

    LimiterStats.reset()
    with SmileClient(
        api_key, base_url=smile_standin.url, event_hooks={"request": [pause]}
    ) as smile:
        smile.get_points_settings()
    (arrival,) = _arrivals(smile_standin, api_key)
    arrived_ms = (arrival.at + time.time() - time.monotonic()) * 1000
    slot = _schedule_end(limiter) - limiter.spacing_ms  # the slot the request used
    assert LimiterStats.late >= 1 and LimiterStats.grants == 1
    # It left on the slot booked after the pause (within 60 ms of it on an idle machine).
    assert 0 <= arrived_ms - slot < 150, arrived_ms - slot


def test_a_request_that_left_late_moves_the_schedule_on(
    stack: LocalStack, smile_standin: SmileStandIn
) -> None:
    """Paused after the limiter's last check, before its bytes went out, a request leaves 250 ms
    after its slot: the slots booked afterwards keep 1 s + margin from it, so the 10th
    request after it still lands in another second."""
    api_key = f"sk_test_{uuid.uuid4().hex}"
    smile_standin.add_account(api_key)
    table = config().data_table
    digest = hashlib.sha256(api_key.encode()).hexdigest()

    class PausedOnce(httpx.HTTPTransport):
        paused = False

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if not self.paused:
                self.paused = True
                time.sleep(0.25)
            return super().handle_request(request)

    LimiterStats.reset()
    with (
        SmileClient(
            api_key,
            base_url=smile_standin.url,
            limiter=SharedRateLimiter(table, digest),
            transport=PausedOnce(),
        ) as late,
        SmileClient(
            api_key, base_url=smile_standin.url, limiter=SharedRateLimiter(table, digest)
        ) as steady,
    ):
        late.get_points_settings()
        for _ in range(10):
            steady.get_points_settings()
    arrivals = [r.at for r in _arrivals(smile_standin, api_key)]
    assert LimiterStats.pushes == 1
    # The next slot is >= 50 ms after the late request (slot + 110 ms, pushed by 250 - 60 ms)
    assert arrivals[1] - arrivals[0] >= 0.04, arrivals[1] - arrivals[0]
    assert arrivals[10] - arrivals[0] > 1.0, arrivals[10] - arrivals[0]
    assert smile_standin.max_requests_in_window(smile_standin.account(api_key), 1.0) <= 10


def test_a_late_request_does_not_push_a_schedule_already_booked_past_its_second(
    stack: LocalStack,
) -> None:
    """A push exists for the slots booked after a late request, within 1 s + margin of it.
    When the schedule already ends later than that (others booked ahead), pushing it only
    delays everyone: late requests of a busy key used to add up, the schedule ran seconds
    ahead of its requests and purchases were refused for want of a slot."""
    limiter = SharedRateLimiter(config().data_table, uuid.uuid4().hex * 2)
    limiter.acquire("urgent")
    slot_left = time.time()
    ahead = int((slot_left + 3) * 1000)
    client("dynamodb").update_item(
        TableName=limiter.table_name,
        Key={"pk": {"S": limiter.pk}, "sk": {"S": "BUCKET"}},
        UpdateExpression="SET tat = :t",
        ExpressionAttributeValues={":t": {"N": str(ahead)}},
    )
    limiter.sent(slot_left + 0.4)  # 400 ms late
    assert _schedule_end(limiter) == ahead


def test_a_slow_dynamodb_does_not_make_every_grant_stale(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each booking is an UpdateItem; when DynamoDB answers in 400 ms (throttled, or an
    instance starved of CPU), a slot booked 250 ms ahead has passed when the answer comes
    and is given up, every time, until a purchase runs out of its 5 s. The slot is booked
    as far ahead as bookings take here."""
    dynamodb = client("dynamodb")
    update_item = dynamodb.update_item

    def slow_update_item(**kwargs: Any) -> Any:
        time.sleep(0.4)
        return update_item(**kwargs)

    monkeypatch.setattr(dynamodb, "update_item", slow_update_item)
    limiter = SharedRateLimiter(config().data_table, uuid.uuid4().hex * 2)
    LimiterStats.reset()
    for _ in range(3):
        limiter.acquire("urgent", within=3.0)
    assert LimiterStats.late <= 2, vars(LimiterStats)  # the first ones, before it knew


def test_a_redemption_goes_before_a_saturating_sync(
    stack: LocalStack, smile_standin: SmileStandIn
) -> None:
    """Six instances keep the key busy with sync reads; a purchase waits ~0.5 s at most."""
    api_key = f"sk_test_{uuid.uuid4().hex}"
    smile_standin.add_account(api_key)
    table = config().data_table
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    stop = threading.Event()

    def sync() -> None:
        limiter = SharedRateLimiter(table, digest)
        while not stop.is_set():
            limiter.acquire("background")

    workers = [threading.Thread(target=sync) for _ in range(6)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(1.5)
        redemption = SharedRateLimiter(table, digest)
        waits = []
        for _ in range(5):
            waits.append(redemption.acquire("urgent"))
            time.sleep(0.3)
        reader = SharedRateLimiter(table, digest)
        read_waits = [reader.acquire("interactive") for _ in range(3)]
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    # The sync may book at most 0.5 s ahead: a purchase waits for that, not for the sync's
    # backlog (plus moto's latency on this loaded machine).
    assert max(waits) < 1.5, waits
    assert max(read_waits) < 2.0, read_waits


def test_the_limiter_falls_back_to_the_process_when_dynamodb_fails(
    stack: LocalStack,
) -> None:
    fallback = RateLimiter(10, 1.1)
    limiter = SharedRateLimiter("no-such-table", "0" * 64, fallback=fallback)
    before = LimiterStats.fallbacks
    for _ in range(3):
        assert limiter.acquire("urgent") < 0.5
    assert LimiterStats.fallbacks == before + 3
    assert len(fallback._sent) == 3


def test_a_purchase_whose_grants_keep_going_stale_gives_up_within_its_wait_budget(
    stack: LocalStack,
) -> None:
    """The instance is paused 200 ms after each booking (starved): each grant goes stale and is
    booked again, but only until the call's wait budget is spent; then it fails, nothing sent."""

    class Starved(SharedRateLimiter):
        def _book(self, horizon: int) -> tuple[int | None, int]:
            booked = super()._book(horizon)
            time.sleep(0.2)
            return booked

    limiter = Starved(config().data_table, uuid.uuid4().hex * 2)
    LimiterStats.reset()
    started = time.monotonic()
    with pytest.raises(LimiterBusy):
        limiter.acquire("urgent", within=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 0.6, elapsed
    assert LimiterStats.late >= 2 and LimiterStats.grants == 0, vars(LimiterStats)
    # The redeem function's timeout is sized for this budget (tests/infra).
    assert wait_budget("urgent") == HORIZON_SECONDS["urgent"]


def test_a_storefront_read_whose_grants_keep_going_stale_gives_up_within_its_budget(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read has 1.5 s of Smile in all (`READ_BUDGET_SECONDS`) and serves the snapshot past
    it: its slot waits are bounded too. Before, it booked again for as long as its grants went
    stale (24 s measured under the load benchmark)."""

    class Starved(SharedRateLimiter):
        books = 0

        def _book(self, horizon: int) -> tuple[int | None, int]:
            Starved.books += 1
            if Starved.books > 20:
                raise AssertionError("still booking after 20 stale grants")
            booked = super()._book(horizon)
            time.sleep(0.2)
            return booked

    limiter = Starved(config().data_table, uuid.uuid4().hex * 2)
    monkeypatch.setattr(smile_access, "smile_api_key", lambda _merchant: "sk_test_read")
    monkeypatch.setattr("customer_hub.smile.transport.limiter_for", lambda *_args: limiter)
    read = smile_access.client_for("m_test", "read")
    assert read is not None and read.priority == "interactive"
    started = time.monotonic()
    with pytest.raises(SmileBusy):
        read._slots.wait(read.priority, 0.0, "/customers/1")
    read.close()
    assert time.monotonic() - started < READ_WAIT_SECONDS + 0.6
    assert READ_WAIT_SECONDS < READ_BUDGET_SECONDS - 0.5  # time left to ask Smile


def test_one_thread_s_slow_booking_does_not_hold_up_the_other_threads(
    stack: LocalStack,
) -> None:
    """Threads of one process share its limiter (`hub dev` runs every sandbox in one process;
    the sync overlaps requests): a booking whose UpdateItem is slow (a busy DynamoDB, a paused
    thread) must not make a purchase on another thread wait for it. Before, every booking of
    the process took one lock across its UpdateItem, and purchases queued behind reads for
    5-11 s in the load benchmark."""
    slow_thread = threading.Event()

    class OneSlowThread(SharedRateLimiter):
        def _update(self, expression: str, condition: str, values: dict[str, int]) -> int | None:
            if threading.current_thread().name == "slow-reader" and not slow_thread.is_set():
                slow_thread.set()
                time.sleep(1.5)  # its first booking only
            return super()._update(expression, condition, values)

    limiter = OneSlowThread(config().data_table, uuid.uuid4().hex * 2)
    reader = threading.Thread(
        target=limiter.acquire, args=("background",), name="slow-reader", daemon=True
    )
    reader.start()
    assert slow_thread.wait(5)
    started = time.monotonic()
    limiter.acquire("urgent")
    assert time.monotonic() - started < 0.75
    reader.join()  # nothing of this test may still book during the next ones


def test_a_redemption_that_finds_no_slot_within_its_budget_is_503_and_spends_nothing(
    api: InProcessApi, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key's schedule is booked 30 s ahead (say, late sends pushed it): the purchase
    cannot have a slot within its 5 s, so it is not sent; the shopper is told to retry."""
    monkeypatch.setenv("SMILE_RATE_LIMIT", "shared")
    shopper = shop.shopper(balance=350)
    digest = hashlib.sha256(shop.api_key.encode()).hexdigest()
    key = {"pk": {"S": f"SMILE_RATE#{digest[:32]}"}, "sk": {"S": "BUCKET"}}
    dynamodb = client("dynamodb")
    ahead = str(int((time.time() + 30) * 1000))
    dynamodb.put_item(TableName=config().data_table, Item={**key, "tat": {"N": ahead}})
    idempotency_key = str(uuid.uuid4())

    def redeem() -> Any:
        return api.post(
            shop.path("rewards/12/redeem"),
            token=shopper.token,
            json_body={},
            headers={"idempotency-key": idempotency_key, "origin": shop.origin},
        )

    started = time.monotonic()
    busy = redeem()
    assert time.monotonic() - started < HORIZON_SECONDS["urgent"]  # it did not wait it out
    assert_problem(busy, 503, "upstream-unavailable")
    assert busy.headers.get("retry-after")
    assert shop.purchases() == [] and shop.smile_balance(shopper) == 350
    dynamodb.delete_item(TableName=config().data_table, Key=key)
    again = redeem()
    assert again.status == 201, again.body
    assert len(shop.purchases()) == 1 and shop.smile_balance(shopper) == 100
