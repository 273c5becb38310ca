"""Smile connection routes and the scheduled sync, end to end in process: moto + the stand-in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from customer_hub.infra.config import config
from customer_hub.infra.secrets import read_secret, smile_secret_name
from customer_hub.infra.store import Table
from customer_hub.loyalty import snapshots
from customer_hub.merchants.profiles import CreatedMerchant
from customer_hub.smile import RetryPolicy, SmileClient, jobs
from customer_hub.smile.sync import Sync, index_pk, load_state
from hubdev import smile_demo
from hubdev.smile_standin import Account, SmileStandIn
from hubdev.stack import LocalStack
from tests.conftest import make_merchant
from tests.support.api import InProcessApi, assert_problem

CONNECTION = "/v1/admin/smile/connection"
SYNC = "/v1/admin/smile/sync"
FAST = RetryPolicy(base_delay=0.01, max_delay=0.1, max_seconds=10)


@pytest.fixture(autouse=True)
def smile_env(
    stack: LocalStack, smile_standin: SmileStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Functions talk to the stand-in, with short backoffs (the rate limit stays real)."""
    monkeypatch.setenv("SMILE_API_BASE_URL", smile_standin.url)
    monkeypatch.setattr(jobs, "client_options", {"retry": FAST})
    config.cache_clear()
    yield
    config.cache_clear()


def new_account(standin: SmileStandIn, customers: int) -> tuple[str, Account]:
    api_key = f"sk_live_{uuid.uuid4().hex}"
    return api_key, standin.add_account(api_key, customers=customers)


def connect(api: InProcessApi, merchant: CreatedMerchant, smile_key: str) -> Any:
    reply = api.put(CONNECTION, json_body={"api_key": smile_key}, api_key=merchant.api_key)
    assert reply.status == 200, reply.body
    assert reply.json == {"connected": True}
    assert smile_key.encode() not in reply.body
    return reply


def stored_customer_ids(merchant_id: str) -> list[int]:
    items = Table(config().data_table).query_all(index_pk(merchant_id))
    return [int(item["sk"].removeprefix("CUSTOMER#")) for item in items]


def snapshots_of(merchant_id: str, account: Account) -> dict[int, dict[str, Any]]:
    keys = [
        (snapshots.email_pk(merchant_id, c["email"]), f"CUSTOMER#{c['id']}")
        for c in account.customers.values()
    ]
    found = Table(config().data_table).batch_get(keys)
    return {int(item["smile_customer_id"]): item for item in found}


def status(api: InProcessApi, merchant: CreatedMerchant) -> dict[str, Any]:
    reply = api.get(SYNC, api_key=merchant.api_key)
    assert reply.status == 200, reply.body
    return dict(reply.json)


# ---------------------------------------------------------------- connection
def test_a_key_smile_rejects_is_a_422_and_nothing_is_stored(
    api: InProcessApi, merchant: CreatedMerchant
) -> None:
    reply = api.put(
        CONNECTION, json_body={"api_key": "sk_not_a_real_key"}, api_key=merchant.api_key
    )
    problem = assert_problem(reply, 422, "validation")
    assert "rejected" in problem["detail"] and problem["errors"][0]["loc"] == ["body", "api_key"]
    assert b"sk_not_a_real_key" not in reply.body
    assert read_secret(smile_secret_name(merchant.merchant_id)) is None
    settings = api.get("/v1/admin/settings", api_key=merchant.api_key).json
    assert settings["smile"] == {"connected": False, "last_sync_at": None}
    assert_problem(api.post(SYNC, api_key=merchant.api_key), 409, "smile-not-connected")


def test_smile_down_while_connecting_is_a_retryable_problem(
    api: InProcessApi, merchant: CreatedMerchant, smile_standin: SmileStandIn
) -> None:
    api_key, account = new_account(smile_standin, 0)
    account.faults.down = True
    reply = api.put(CONNECTION, json_body={"api_key": api_key}, api_key=merchant.api_key)
    assert_problem(reply, 503, "upstream-unavailable")
    assert reply.headers.get("retry-after") == "30"


def test_unknown_fields_and_blank_keys_are_refused(
    api: InProcessApi, merchant: CreatedMerchant
) -> None:
    for body in ({"api_key": "  "}, {"api_key": "k", "extra": 1}, {}, {"api_key": "sk_ü\u0000"}):
        assert_problem(
            api.put(CONNECTION, json_body=body, api_key=merchant.api_key), 422, "validation"
        )
    assert_problem(api.put(CONNECTION, json_body={"api_key": "x"}), 401, "unauthorized")


# ---------------------------------------------------------------- sync
def test_connecting_syncs_every_customer_program_and_coupon(
    api: InProcessApi, stack: LocalStack, merchant: CreatedMerchant, smile_standin: SmileStandIn
) -> None:
    api_key, account = new_account(smile_standin, 650)
    connect(api, merchant, api_key)
    assert read_secret(smile_secret_name(merchant.merchant_id)) == {"api_key": api_key}
    stack.drain()

    report = status(api, merchant)
    assert report["status"] == "idle" and report["last_error"] is None
    assert report["customers_synced"] == 650
    # program: points settings, products, rules, tiers, referral and VIP settings; customers and
    # fulfillments: 3 + 2
    assert report["requests_made"] == len(smile_standin.requests(account)) - 1 == 11
    settings = api.get("/v1/admin/settings", api_key=merchant.api_key).json
    assert settings["smile"]["connected"] is True
    assert settings["smile"]["last_sync_at"] == report["last_success_at"]

    stored = snapshots_of(merchant.merchant_id, account)
    assert (
        sorted(stored)
        == sorted(account.customers)
        == sorted(stored_customer_ids(merchant.merchant_id))
    )
    for customer in account.customers.values():
        snapshot = stored[customer["id"]]
        assert snapshot["points_balance"] == customer["points_balance"]
        assert snapshot["state"] == customer["state"]
        assert snapshot["updated_at"] == customer["updated_at"]

    program = snapshots.load_program(merchant.merchant_id, max_age=0)
    assert program is not None and program.points_label.other == "Coins"
    assert len(program.points_products) == 6 and len(program.vip_tiers) == 3
    assert program.referral_settings and program.referral_settings["status"] == "active"
    assert program.vip_settings and program.vip_settings.milestone_type == "points_earned"

    member = snapshots.load_shopper(merchant.merchant_id, smile_demo.MEMBER_EMAIL, "1")
    assert [c.vip_status and c.vip_status.vip_tier_id for c in member.customers] == [2]
    assert sorted(c.usage_status or "" for c in member.coupons) == ["unused", "used"]
    assert all(c.code for c in member.coupons)
    twins = snapshots.load_shopper(merchant.merchant_id, smile_demo.DUPLICATE_EMAIL, "2")
    assert snapshots.choose_customer(twins.customers).state == "member"  # type: ignore[union-attr]
    assert smile_standin.max_requests_in_window(account) <= 10


def test_a_second_run_fetches_only_what_changed(
    api: InProcessApi, stack: LocalStack, merchant: CreatedMerchant, smile_standin: SmileStandIn
) -> None:
    api_key, account = new_account(smile_standin, 300)
    connect(api, merchant, api_key)
    stack.drain()
    first = load_state(merchant.merchant_id)

    (member,) = account.customer_by_email(smile_demo.MEMBER_EMAIL)
    changed = [member["id"], *sorted(account.customers)[:2]]
    for customer_id in changed:
        account.update_customer(customer_id, points_balance=4321)
    account.issue_after = 3600  # the coupon stays pending until issue_pending()
    purchase = account.purchase(11, {"customer_id": member["id"]})
    smile_standin.clear_log()

    assert api.post(SYNC, api_key=merchant.api_key).status == 202
    stack.drain()
    report = status(api, merchant)
    assert report["customers_synced"] == 3
    customer_pages = smile_standin.requests(account, "/customers")
    assert len(customer_pages) == 1
    assert customer_pages[0].query["updated_at_min"] < first.run_started_at  # overlap
    assert customer_pages[0].query["include"] == "vip_status"
    stored = snapshots_of(merchant.merchant_id, account)
    assert [stored[c]["points_balance"] for c in changed] == [4321 - 100, 4321, 4321]

    shopper = snapshots.load_shopper(merchant.merchant_id, smile_demo.MEMBER_EMAIL, "1")
    coupon = {c.fulfillment_id: c for c in shopper.coupons}[purchase["reward_fulfillment"]["id"]]
    assert coupon.fulfillment_status == "pending" and coupon.code is None

    account.issue_pending()  # Smile issues the code a moment later
    api.post(SYNC, api_key=merchant.api_key)
    stack.drain()
    shopper = snapshots.load_shopper(merchant.merchant_id, smile_demo.MEMBER_EMAIL, "1")
    coupon = {c.fulfillment_id: c for c in shopper.coupons}[purchase["reward_fulfillment"]["id"]]
    assert coupon.fulfillment_status == "issued" and coupon.code


class Killed(Exception):
    """The Lambda runtime stopping a sync mid-run."""


def test_a_killed_run_resumes_from_its_saved_cursor(
    api: InProcessApi, merchant: CreatedMerchant, smile_standin: SmileStandIn
) -> None:
    api_key, account = new_account(smile_standin, 350)
    connect(api, merchant, api_key)  # its first job stays queued: this test runs Sync itself
    checks = iter(range(100))

    def dies_after_two_customer_pages() -> float:
        if next(checks) == 3:  # checks: program, page 1, page 2, (page 3 → killed)
            raise Killed
        return 900.0

    with SmileClient(api_key, base_url=smile_standin.url, retry=FAST) as smile:
        with pytest.raises(Killed):
            Sync(merchant.merchant_id, smile, page_size=100,
                 remaining_seconds=dies_after_two_customer_pages).run()  # fmt: skip
        saved = load_state(merchant.merchant_id)
        assert (saved.phase, saved.customers_synced, saved.status) == ("customers", 200, "running")
        killed = len(smile_standin.requests(account, "/customers"))
        assert Sync(merchant.merchant_id, smile, page_size=100).run() == "done"

    cursors = [r.query.get("cursor") for r in smile_standin.requests(account, "/customers")]
    assert len(set(cursors)) == 4 and cursors[0] is None, "350 customers: 4 pages of 100"
    # The killed invocation had the third page on its way (fetched while the second was
    # written): that one page is fetched again, no other.
    assert killed <= 3 and len(cursors) == killed + 2, cursors
    assert cursors[killed] == saved.cursor, "the resumed run started at the saved cursor"
    final = load_state(merchant.merchant_id)
    assert final.customers_synced == 350 and final.status == "idle"
    stored = stored_customer_ids(merchant.merchant_id)
    assert sorted(stored) == sorted(account.customers), "no gaps, no duplicates"


def test_time_running_out_continues_in_a_new_job(
    api: InProcessApi, stack: LocalStack, merchant: CreatedMerchant, smile_standin: SmileStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    api_key, account = new_account(smile_standin, 260)
    stack.drain()  # jobs other tests left behind must not spend this test's budget
    budget = iter([900.0, 900.0, 0.0] + [900.0] * 50)  # out of time before the second page
    options = {"page_size": 100, "remaining_seconds": lambda: next(budget)}
    monkeypatch.setattr(jobs, "sync_options", options)
    connect(api, merchant, api_key)
    stack.drain()
    state = load_state(merchant.merchant_id)
    assert state.status == "idle" and state.customers_synced == 260
    assert state.invocations == 2, "the job ran out of time once and was continued"
    assert state.pages == 3 + 2, "customers and fulfillments, each page read once"
    assert sorted(stored_customer_ids(merchant.merchant_id)) == sorted(account.customers)


def test_with_30_percent_429_and_503_the_sync_still_completes(
    api: InProcessApi, stack: LocalStack, merchant: CreatedMerchant, smile_standin: SmileStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    api_key, account = new_account(smile_standin, 300)
    monkeypatch.setattr(jobs, "client_options", {"retry": RetryPolicy(
        max_attempts=12, base_delay=0.01, max_delay=0.1, max_seconds=20)})  # fmt: skip
    connect(api, merchant, api_key)
    account.faults.update({"error_rate": 0.3, "statuses": [429, 503]})
    stack.drain()
    report = status(api, merchant)
    assert report["status"] == "idle", report
    logged = smile_standin.requests(account)
    assert {r.status for r in logged} >= {200, 429, 503}
    assert report["requests_made"] == len(logged) - 1  # the key check when connecting
    stored = snapshots_of(merchant.merchant_id, account)
    assert len(stored) == 300
    assert all(
        stored[c["id"]]["points_balance"] == c["points_balance"] for c in account.customers.values()
    )
    assert smile_standin.max_requests_in_window(account) <= 10


def test_a_failing_merchant_does_not_stop_another(
    api: InProcessApi, stack: LocalStack, smile_standin: SmileStandIn
) -> None:
    broken, healthy = make_merchant(), make_merchant()
    broken_key, _ = new_account(smile_standin, 50)
    healthy_key, healthy_account = new_account(smile_standin, 300)
    connect(api, broken, broken_key)
    connect(api, healthy, healthy_key)
    stack.drain()
    smile_standin.revoke(broken_key)  # the merchant rotated the key in Smile
    for customer_id in sorted(healthy_account.customers)[:5]:
        healthy_account.update_customer(customer_id, points_balance=77)

    assert stack.fire_schedule("smile_sync_scheduler")["enqueued"] >= 2
    stack.drain()
    failed = status(api, broken)
    assert failed["status"] == "failed"
    assert "rejected the API key" in failed["last_error"]
    assert broken_key not in failed["last_error"]
    fine = status(api, healthy)
    assert fine["status"] == "idle" and fine["customers_synced"] == 5
    stored = snapshots_of(healthy.merchant_id, healthy_account)
    assert sum(1 for s in stored.values() if s["points_balance"] == 77) >= 5


def test_the_schedule_enqueues_one_job_per_merchant_and_slot(
    api: InProcessApi, stack: LocalStack, merchant: CreatedMerchant, smile_standin: SmileStandIn
) -> None:
    api_key, account = new_account(smile_standin, 10)
    connect(api, merchant, api_key)
    stack.drain()
    smile_standin.clear_log()
    stack.fire_schedule("smile_sync_scheduler")
    stack.fire_schedule("smile_sync_scheduler")  # the same 5-minute slot: deduplicated
    stack.drain()
    assert load_state(merchant.merchant_id).invocations == 1
    assert len(smile_standin.requests(account, "/points_settings")) == 1


def test_disconnecting_stops_syncing(
    api: InProcessApi, stack: LocalStack, merchant: CreatedMerchant, smile_standin: SmileStandIn
) -> None:
    api_key, account = new_account(smile_standin, 10)
    connect(api, merchant, api_key)
    reply = api.delete(CONNECTION, api_key=merchant.api_key)
    assert reply.status == 204 and not reply.body
    stack.drain()  # the job queued on connect finds no connection
    assert read_secret(smile_secret_name(merchant.merchant_id)) is None
    settings = api.get("/v1/admin/settings", api_key=merchant.api_key).json
    assert settings["smile"]["connected"] is False
    assert_problem(api.post(SYNC, api_key=merchant.api_key), 409, "smile-not-connected")
    smile_standin.clear_log()
    stack.fire_schedule("smile_sync_scheduler")
    stack.drain()
    assert smile_standin.requests(account) == []
    assert status(api, merchant)["status"] == "idle"


def test_hub_owned_coupon_fields_survive_a_sync(
    api: InProcessApi, stack: LocalStack, merchant: CreatedMerchant, smile_standin: SmileStandIn
) -> None:
    api_key, account = new_account(smile_standin, 10)
    connect(api, merchant, api_key)
    stack.drain()
    (member,) = account.customer_by_email(smile_demo.MEMBER_EMAIL)
    fulfillment = next(
        f for f in account.fulfillments.values()
        if f["customer_id"] == member["id"] and f["usage_status"] == "unused"
    )  # fmt: skip
    shopper = snapshots.load_shopper(merchant.merchant_id, member["email"], "9001")
    mine = {c.fulfillment_id: c for c in shopper.coupons}[fulfillment["id"]]
    applied = mine.model_copy(
        update={"shopify_customer_id": "9001", "applied_at": "2026-11-23T09:00:00Z"}
    )
    snapshots.save_coupon(merchant.merchant_id, member["email"], applied)

    account.mark_used(fulfillment["id"])
    api.post(SYNC, api_key=merchant.api_key)
    stack.drain()
    shopper = snapshots.load_shopper(merchant.merchant_id, member["email"], "9001")
    synced = {c.fulfillment_id: c for c in shopper.coupons}[fulfillment["id"]]
    assert synced.usage_status == "used"
    assert (synced.shopify_customer_id, synced.applied_at) == ("9001", "2026-11-23T09:00:00Z")
    by_shopper = Table(config().data_table).get(
        snapshots.shopper_pk(merchant.merchant_id, "9001"), f"COUPON#{fulfillment['id']}"
    )
    assert by_shopper and by_shopper["usage_status"] == "used"


def test_a_coupon_of_a_customer_never_synced_is_filed_under_their_email(
    api: InProcessApi, stack: LocalStack, merchant: CreatedMerchant, smile_standin: SmileStandIn
) -> None:
    api_key, account = new_account(smile_standin, 10)
    connect(api, merchant, api_key)
    stack.drain()
    (member,) = account.customer_by_email(smile_demo.MEMBER_EMAIL)
    Table(config().data_table).delete(index_pk(merchant.merchant_id), f"CUSTOMER#{member['id']}")
    fulfillment = account.add_fulfillment(member["id"], "$5 off", issued=True)
    smile_standin.clear_log()
    api.post(SYNC, api_key=merchant.api_key)
    stack.drain()
    assert len(smile_standin.requests(account, f"/customers/{member['id']}")) == 1
    shopper = snapshots.load_shopper(merchant.merchant_id, smile_demo.MEMBER_EMAIL, "1")
    assert fulfillment["id"] in {c.fulfillment_id for c in shopper.coupons}
    assert member["id"] in stored_customer_ids(merchant.merchant_id)


def test_the_smile_key_never_reaches_the_logs(
    api: InProcessApi, stack: LocalStack, merchant: CreatedMerchant, smile_standin: SmileStandIn,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    api_key, account = new_account(smile_standin, 10)
    account.faults.fail_next = [503]
    connect(api, merchant, api_key)
    smile_standin.revoke(api_key)
    stack.drain()
    assert status(api, merchant)["status"] == "failed"
    captured = capsys.readouterr()
    assert api_key not in captured.out + captured.err + caplog.text


def test_an_older_smile_answer_never_overwrites_a_newer_snapshot(
    api: InProcessApi, stack: LocalStack, merchant: CreatedMerchant, smile_standin: SmileStandIn
) -> None:
    api_key, account = new_account(smile_standin, 10)
    (member,) = account.customer_by_email(smile_demo.MEMBER_EMAIL)
    newer = snapshots.CustomerSnapshot(
        smile_customer_id=member["id"],
        email=member["email"],
        state="member",
        points_balance=1,
        updated_at="2099-01-01T00:00:00.000Z",  # e.g. written by a redemption just now
        synced_at="2099-01-01T00:00:00Z",
    )
    snapshots.save_customer(merchant.merchant_id, newer)
    connect(api, merchant, api_key)
    stack.drain()
    stored = snapshots_of(merchant.merchant_id, account)
    assert stored[member["id"]]["points_balance"] == 1
    assert len(stored) == 10


def test_progress_made_with_another_key_is_not_resumed(
    api: InProcessApi, merchant: CreatedMerchant, smile_standin: SmileStandIn
) -> None:
    old_key, _ = new_account(smile_standin, 300)
    new_key, new_account_ = new_account(smile_standin, 20)
    checks = iter(range(100))

    def dies_after_one_page() -> float:
        if next(checks) == 2:
            raise Killed
        return 900.0

    old = SmileClient(old_key, base_url=smile_standin.url, retry=FAST)
    with old, pytest.raises(Killed):
        Sync(merchant.merchant_id, old, page_size=100, remaining_seconds=dies_after_one_page).run()
    assert load_state(merchant.merchant_id).cursor
    with SmileClient(new_key, base_url=smile_standin.url, retry=FAST) as smile:
        assert Sync(merchant.merchant_id, smile).run() == "done"
    first = smile_standin.requests(new_account_, "/customers")[0]
    assert "cursor" not in first.query and "updated_at_min" not in first.query
    assert load_state(merchant.merchant_id).customers_synced == 20


def test_smile_down_mid_run_fails_the_run_and_the_next_one_resumes_it(
    api: InProcessApi, stack: LocalStack, merchant: CreatedMerchant, smile_standin: SmileStandIn
) -> None:
    api_key, account = new_account(smile_standin, 300)
    account.faults.update({"down": True, "paths": ["/reward_fulfillments"]})
    connect(api, merchant, api_key)
    stack.drain()
    failed = status(api, merchant)
    assert failed["status"] == "failed" and "unavailable" in failed["last_error"]
    assert failed["customers_synced"] == 300 and failed["last_success_at"] is None

    account.faults.update({"down": False})
    smile_standin.clear_log()
    assert api.post(SYNC, api_key=merchant.api_key).status == 202
    stack.drain()
    resumed = status(api, merchant)
    assert resumed["status"] == "idle" and resumed["last_error"] is None
    assert resumed["last_success_at"]
    paths = {r.path for r in smile_standin.requests(account)}
    assert paths == {"/reward_fulfillments"}, "customers were not fetched again"
