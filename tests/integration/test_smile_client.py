"""The Smile client against the local stand-in: shapes, pagination, purchases, failures, rate."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from customer_hub.smile import (
    RetryPolicy,
    SmileClient,
    SmileUnauthorized,
    SmileUnavailable,
    SmileUnprocessable,
)
from hubdev import smile_demo
from hubdev.smile_standin import Account, SmileStandIn

FAST = RetryPolicy(base_delay=0.01, max_delay=0.05, max_seconds=5)


def client_for(standin: SmileStandIn, api_key: str, **kwargs: object) -> SmileClient:
    return SmileClient(api_key, base_url=standin.url, retry=FAST, **kwargs)  # type: ignore[arg-type]


def test_program_objects_come_back_typed(
    smile_standin: SmileStandIn, smile_account: tuple[str, Account]
) -> None:
    api_key, _ = smile_account
    with client_for(smile_standin, api_key) as smile:
        assert smile.get_points_settings().points_label.of(2) == "Coins"
        products = smile.list_points_products(page_size=4)  # two pages: 4 + 2
        assert sorted(p.id for p in products) == [11, 12, 13, 14, 15, 16]
        variable = next(p for p in products if p.exchange_type == "variable")
        assert (variable.variable_points_step, variable.variable_points_min) == (100, 100)
        rules = smile.list_earning_rules()
        assert {r.reward_value.type for r in rules if r.reward_value} == {"fixed", "variable"}
        assert [t.name for t in smile.list_vip_tiers()] == ["Bronze", "Silver", "Gold"]
        assert (smile.get_referral_settings() or {})["status"] == "active"
        assert smile.requests_made == 6


def test_cursor_pagination_walks_every_customer_once(
    smile_standin: SmileStandIn, smile_account: tuple[str, Account]
) -> None:
    api_key, account = smile_account
    with client_for(smile_standin, api_key) as smile:
        seen: list[int] = []
        cursor = None
        while True:
            page = smile.customers_page(cursor=cursor, limit=15)
            seen += [c.id for c in page.items]
            if page.last:
                break
            cursor = page.next_cursor
        assert len(seen) == len(set(seen)) == len(account.customers) == 40
        assert seen == sorted(seen, reverse=True), "Smile lists by id descending"
        member = next(c for c in smile.iter_customers() if c.email == smile_demo.MEMBER_EMAIL)
        assert member.vip_status and member.vip_status.vip_tier_id == 2
        assert member.points_balance == 350


def test_duplicate_emails_are_all_found(
    smile_standin: SmileStandIn, smile_account: tuple[str, Account]
) -> None:
    api_key, _ = smile_account
    with client_for(smile_standin, api_key) as smile:
        twins = smile.find_customers_by_email("Twin.Shopper@example.com")
        assert sorted(c.state for c in twins) == ["candidate", "member"]
        assert smile.find_customers_by_email(smile_demo.NOT_MEMBER_EMAIL) == []
        one = smile.get_customer(twins[0].id)
        assert one.id == twins[0].id and one.vip_status is not None


def test_purchase_spends_points_and_the_coupon_is_issued_later(
    smile_standin: SmileStandIn, smile_account: tuple[str, Account]
) -> None:
    api_key, account = smile_account
    (customer,) = account.customer_by_email(smile_demo.MEMBER_EMAIL)
    with client_for(smile_standin, api_key) as smile:
        purchase = smile.purchase(11, customer["id"])
        assert purchase.points_spent == 100
        assert purchase.reward_fulfillment.fulfillment_status == "pending"
        assert purchase.reward_fulfillment.code is None
        assert smile.get_customer(customer["id"]).points_balance == 250
        variable = smile.purchase(16, customer["id"], points_to_spend=200)
        assert variable.points_spent == 200
        time.sleep(smile_standin.issue_after + 0.01)
        issued = smile.get_reward_fulfillment(purchase.reward_fulfillment.id, customer["id"])
        assert issued is not None and issued.fulfillment_status == "issued"
        assert issued.code and issued.updated_at > purchase.reward_fulfillment.updated_at
        with pytest.raises(SmileUnprocessable) as refused:
            smile.purchase(15, customer["id"])
        assert refused.value.status == 422 and "enough points" in refused.value.message
    assert account.customers[customer["id"]]["points_balance"] == 50


def test_a_rejected_key_is_a_typed_error_without_the_key(smile_standin: SmileStandIn) -> None:
    api_key = f"sk_wrong_{uuid.uuid4().hex}"
    with client_for(smile_standin, api_key) as smile, pytest.raises(SmileUnauthorized) as exc:
        smile.verify()
    assert exc.value.status == 401
    assert api_key not in f"{exc.value} {exc.value!r} {exc.value.body} {smile!r}"


def test_transient_failures_are_retried(
    smile_standin: SmileStandIn, smile_account: tuple[str, Account]
) -> None:
    api_key, account = smile_account
    account.faults.fail_next = [503, 429, 502]
    with client_for(smile_standin, api_key) as smile:
        assert smile.get_points_settings().points_label.one == "Coin"
        assert smile.requests_made == 4


def test_a_purchase_is_not_retried_once_smile_may_have_acted(
    smile_standin: SmileStandIn, smile_account: tuple[str, Account]
) -> None:
    api_key, account = smile_account
    (customer,) = account.customer_by_email(smile_demo.RICH_MEMBER_EMAIL)
    with client_for(smile_standin, api_key) as smile:
        account.faults.fail_next = [503]
        with pytest.raises(SmileUnavailable):
            smile.purchase(11, customer["id"])
        assert smile.requests_made == 1
        account.faults.fail_next = [429]  # refused before processing: safe to retry
        smile.purchase(11, customer["id"])
        assert smile.requests_made == 3
    assert account.customers[customer["id"]]["points_balance"] == 5200 - 100


def test_smile_down_fails_within_the_time_bound(
    smile_standin: SmileStandIn, smile_account: tuple[str, Account]
) -> None:
    api_key, account = smile_account
    account.faults.down = True
    started = time.monotonic()
    with client_for(smile_standin, api_key) as smile, pytest.raises(SmileUnavailable):
        smile.get_points_settings()
    assert time.monotonic() - started < FAST.max_seconds
    assert smile.requests_made == FAST.max_attempts


def test_the_real_limit_holds_across_threads_and_clients(smile_standin: SmileStandIn) -> None:
    """30 requests from 3 threads with two clients of one key: never over 10 in a second."""
    api_key = f"sk_rate_{uuid.uuid4().hex}"
    account = smile_standin.add_account(api_key)
    clients = [client_for(smile_standin, api_key), client_for(smile_standin, api_key)]

    def work(smile: SmileClient) -> None:
        for _ in range(10):
            smile.get_points_settings()

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(clients[i % 2],)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    logged = smile_standin.requests(account)
    assert len(logged) == 30 and all(r.status == 200 for r in logged), "no 429 at all"
    assert smile_standin.max_requests_in_window(account, 1.0) <= 10
    assert elapsed >= 2.0, "30 requests at 10 per second take at least two seconds"
    for smile in clients:
        smile.close()


def test_faults_can_be_set_over_http_and_the_log_is_readable(
    smile_standin: SmileStandIn, smile_account: tuple[str, Account]
) -> None:
    import httpx

    api_key, account = smile_account
    reply = httpx.post(
        f"{smile_standin.origin}/_control/faults",
        json={"account": account.name, "fail_next": [503]},
    )
    assert reply.status_code == 200
    with client_for(smile_standin, api_key) as smile:
        smile.get_points_settings()
    logged = httpx.get(f"{smile_standin.origin}/_control/requests").json()["requests"]
    mine = [r["status"] for r in logged if r["account"] == account.name]
    assert mine == [503, 200]


def test_demo_shoppers_cover_every_state(smile_account: tuple[str, Account]) -> None:
    _, account = smile_account
    shoppers = smile_demo.demo_shoppers()
    assert shoppers["login_required"] is None
    assert [c["state"] for c in account.customer_by_email(shoppers["excluded"] or "")] == [
        "disabled"
    ]
    assert account.customer_by_email(shoppers["not_member"] or "") == []
    (join,) = account.customer_by_email(shoppers["join"] or "")
    assert join["points_balance"] == 0
    (member,) = account.customer_by_email(shoppers["member"] or "")
    assert member["state"] == "member" and member["points_balance"] > 0


def test_a_slow_smile_times_out_into_a_typed_error(
    smile_standin: SmileStandIn, smile_account: tuple[str, Account]
) -> None:
    from customer_hub.smile import Timeouts

    api_key, account = smile_account
    account.faults.slow_seconds = 0.4
    retry = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02, max_seconds=3)
    with (
        SmileClient(
            api_key, base_url=smile_standin.url, retry=retry, timeouts=Timeouts(read=0.1)
        ) as smile,
        pytest.raises(SmileUnavailable, match="timed out"),
    ):
        smile.get_points_settings()
    assert smile.requests_made == 2


def test_malformed_answers_are_typed_errors_or_skipped_items() -> None:
    import httpx

    from customer_hub.smile import SmileInvalidResponse

    def smile(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/points_settings"):
            return httpx.Response(200, text="<html>maintenance</html>")
        if request.url.path.endswith("/customers/1"):
            return httpx.Response(200, json={"customer": {"id": "not a number"}})
        good = {"id": 2, "state": "member", "updated_at": "2026-11-23T10:00:00.000Z"}
        return httpx.Response(
            200, json={"customers": [{"id": 1}, good], "metadata": {"next_cursor": None}}
        )

    transport = httpx.MockTransport(smile)
    with SmileClient("sk_x", base_url="http://127.0.0.1:9/v1", transport=transport) as client:
        with pytest.raises(SmileInvalidResponse):
            client.get_points_settings()
        with pytest.raises(SmileInvalidResponse):
            client.get_customer(1)
        assert [c.id for c in client.customers_page().items] == [2]


def test_points_transactions_compensate_and_never_go_negative(
    smile_standin: SmileStandIn, smile_account: tuple[str, Account]
) -> None:
    api_key, account = smile_account
    (customer,) = account.customer_by_email(smile_demo.MEMBER_EMAIL)
    with client_for(smile_standin, api_key) as smile:
        created = smile.create_points_transaction(customer["id"], 100, "Refund of a redemption")
        assert created["points_change"] == 100
        assert smile.get_customer(customer["id"]).points_balance == 450
        with pytest.raises(SmileUnprocessable):
            smile.create_points_transaction(customer["id"], -10_000, "Too much")
    assert account.customers[customer["id"]]["points_balance"] == 450
