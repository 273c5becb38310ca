"""The redemption protocol and the idempotency ledger on in-memory fakes (milliseconds each):
what the shopper would see — the 201, the balance, the coupon, a replay, a 409/422/503 — and
what the stores keep (the hold, the debit, the claim on a fulfillment)."""

from __future__ import annotations

from typing import Any

import pytest

from customer_hub.problems import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InsufficientPoints,
    RedemptionUnconfirmed,
    UpstreamUnavailable,
)
from customer_hub.redemption import holds, idempotency, reconciliation
from customer_hub.smile import RewardFulfillment
from tests.support.redemption_fakes import DOLLARS, MERCHANT_ID, World

FINAL = 61  # seconds after which "not found at Smile" is conclusive (HOLD_OUTCOME_FINAL_SECONDS)


# ------------------------------------------------------------------ hold → purchase → finish
def test_a_redemption_holds_buys_and_finishes_in_one_write(world: World) -> None:
    response, replayed = world.redeem()

    assert not replayed
    assert response["points_balance"] == 400
    assert response["coupon"]["code"] == "HUB-900"
    assert response["apply_url"] == "https://shop.myshopify.com/discount/HUB-900?redirect=/cart"
    stored = world.stored()
    assert stored["points_balance"] == 400  # debited where the points were held
    assert stored["holds"] == {}
    assert world.smile.purchases == 1
    coupon = world.writes.coupons[(MERCHANT_ID, "ana@example.com", 900)]
    assert coupon.shopify_customer_id == "5001" and coupon.applied_at is not None
    assert [e.type for e in world.writes.events.values()] == ["coupon_applied"]
    assert idempotency.claim_holder(MERCHANT_ID, "FULFILLMENT#900") is not None


def test_a_variable_reward_spends_the_points_asked_for(world: World) -> None:
    response, _ = world.redeem(product=DOLLARS, points=300)

    assert response["points_balance"] == 200
    assert world.smile.fulfillments[0].name == "$3 off coupon"


def test_a_hub_not_live_records_no_interaction(world: World) -> None:
    world.merchant = world.merchant.model_copy(update={"hub_status": "paused"})

    world.redeem()

    assert world.writes.events == {}


def test_a_sync_meanwhile_finishes_write_by_write_and_keeps_the_hold_spent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.clock.advance(1)
    original = reconciliation.issued

    def sync_first(smile: Any, fulfillment: RewardFulfillment) -> RewardFulfillment:
        world.snapshot(points=500)  # Smile's balance read before the purchase showed there
        return original(smile, fulfillment)

    monkeypatch.setattr(reconciliation, "issued", sync_first)
    response, _ = world.redeem()

    assert response["points_balance"] == 400
    (hold,) = world.stored()["holds"].values()
    assert hold["spent"] is True  # counts until a snapshot read after the outcome was final
    assert world.load(world.merchant, world.shopper).customer.points_balance == 400  # type: ignore[union-attr]
    assert idempotency.ledger.read(*_record(world)) is not None
    assert world.redeem() == (response, True)


def _record(world: World) -> tuple[str, str]:
    (pk, sk) = next(k for k in world.ledger.records if k[1].startswith("IDEMPOTENCY#"))
    return pk, sk


# ------------------------------------------------------------------ refused before spending
def test_too_few_points_are_refused_before_smile_is_asked(world: World) -> None:
    world.snapshot(points=50)

    with pytest.raises(InsufficientPoints) as refused:
        world.redeem()

    assert refused.value.extra["points_needed"] == 50
    assert world.smile.purchases == 0
    assert world.ledger.records == {}  # the key may be used again


def test_points_held_by_one_redemption_are_not_spent_by_another(world: World) -> None:
    world.snapshot(points=150)
    customer = world.load(world.merchant, world.shopper).customer
    assert customer is not None
    entry = {"at": "2026-11-23T12:00:00Z", "points": 100, "name": "$5 off", "smile_customer_id": 7}
    holds.hold_points(MERCHANT_ID, customer, "first", 100, dict(entry))

    with pytest.raises(InsufficientPoints):
        holds.hold_points(MERCHANT_ID, customer, "second", 100, dict(entry))
    assert world.load(world.merchant, world.shopper).customer.points_balance == 50  # type: ignore[union-attr]


def test_smile_refusing_releases_the_hold(world: World) -> None:
    world.smile.mode = "refused"

    with pytest.raises(InsufficientPoints):
        world.redeem()

    assert world.stored()["holds"] == {}
    assert world.stored()["points_balance"] == 500


def test_smile_down_releases_the_hold_and_the_key(world: World) -> None:
    world.smile.mode = "down"

    with pytest.raises(UpstreamUnavailable) as down:
        world.redeem()

    assert down.value.status == 503 and down.value.headers == {"Retry-After": "2"}
    assert world.stored()["holds"] == {}
    world.smile.mode = "ok"
    assert world.redeem()[0]["points_balance"] == 400


# ------------------------------------------------------------------ lost answer → reconcile
def test_a_lost_answer_finds_the_fulfillment_smile_made(world: World) -> None:
    world.smile.mode = "lost"

    response, replayed = world.redeem()

    assert not replayed
    assert response["coupon"]["code"] == "HUB-900"
    assert response["points_balance"] == 400
    assert world.smile.purchases == 1
    assert world.redeem() == (response, True)
    assert world.smile.purchases == 1


def test_a_lost_answer_without_a_fulfillment_holds_the_points_then_buys_once_final(
    world: World,
) -> None:
    world.smile.mode = "lost-unbought"

    with pytest.raises(RedemptionUnconfirmed) as unconfirmed:
        world.redeem()

    assert unconfirmed.value.headers == {"Retry-After": "3"}
    (hold,) = world.stored()["holds"].values()
    assert hold["unconfirmed"] is True
    assert world.load(world.merchant, world.shopper).customer.points_balance == 400  # type: ignore[union-attr]
    # A retry while Smile may still act looks again and buys nothing.
    world.smile.mode = "ok"
    with pytest.raises(RedemptionUnconfirmed):
        world.redeem()
    assert world.smile.purchases == 1
    # Once "not found" is conclusive the hold is released and the retry buys now.
    world.clock.advance(FINAL)
    response, _ = world.redeem()
    assert world.smile.purchases == 2
    assert response["points_balance"] == 400
    assert world.stored()["holds"] == {}


def test_a_retry_after_a_lost_answer_finds_what_smile_bought(world: World) -> None:
    world.smile.mode = "lost"
    world.smile.list_reward_fulfillments = lambda *_a, **_k: []  # type: ignore[method-assign]
    with pytest.raises(RedemptionUnconfirmed):
        world.redeem()  # Smile bought, but its listing does not show it yet
    del world.smile.list_reward_fulfillments

    response, replayed = world.redeem()

    assert not replayed and response["coupon"]["code"] == "HUB-900"
    assert world.smile.purchases == 1  # never bought twice
    assert world.stored()["points_balance"] == 400


def test_an_adopted_fulfillment_is_not_handed_out_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another redemption of the same reward lost its answer; Smile made its fulfillment (900).
    theirs = world.smile.fulfill(7, "$5 off")
    original = reconciliation.issued

    def adopted_meanwhile(smile: Any, fulfillment: RewardFulfillment) -> RewardFulfillment:
        # While ours (901) is issued, the other key's reconciliation adopts it (interchangeable).
        if fulfillment.id == 901:
            assert idempotency.claim_once(MERCHANT_ID, "FULFILLMENT#901", "other-key")
        return original(smile, fulfillment)

    monkeypatch.setattr(reconciliation, "issued", adopted_meanwhile)
    response, _ = world.redeem()

    assert response["coupon"]["code"] == theirs.code  # the free one of the same kind
    assert idempotency.claim_holder(MERCHANT_ID, "FULFILLMENT#901") == "other-key"
    assert world.smile.purchases == 1
    assert world.stored()["points_balance"] == 400


# ------------------------------------------------------------------ the key
def test_the_same_key_and_body_replay_the_first_answer(world: World) -> None:
    first, _ = world.redeem()

    assert world.redeem() == (first, True)
    assert world.smile.purchases == 1
    assert world.stored()["points_balance"] == 400


def test_the_same_key_with_another_body_is_refused(world: World) -> None:
    world.redeem(product=DOLLARS, points=100)

    with pytest.raises(IdempotencyKeyReused):
        world.redeem(product=DOLLARS, points=200)


def test_a_key_in_use_by_a_request_in_flight_is_a_conflict(world: World) -> None:
    fingerprint = idempotency.fingerprint({"points_product_id": "11", "points_to_spend": None})
    idempotency.begin(MERCHANT_ID, "5001", "key-1", fingerprint)  # a request still running

    with pytest.raises(IdempotencyKeyInUse):
        world.redeem()
    assert world.smile.purchases == 0


# ------------------------------------------------------------------ the idempotency ledger
def test_ledger_first_use_then_replay(world: World) -> None:
    claim = idempotency.begin(MERCHANT_ID, "5001", "k", "body-a")
    assert claim.kind == "new"
    idempotency.complete(claim, {"ok": 1})

    replay = idempotency.begin(MERCHANT_ID, "5001", "k", "body-a")

    assert replay.kind == "replay" and replay.response == {"ok": 1}


def test_ledger_reuse_with_another_body(world: World) -> None:
    idempotency.begin(MERCHANT_ID, "5001", "k", "body-a")

    with pytest.raises(IdempotencyKeyReused):
        idempotency.begin(MERCHANT_ID, "5001", "k", "body-b")


def test_ledger_keys_belong_to_one_shopper(world: World) -> None:
    idempotency.begin(MERCHANT_ID, "5001", "k", "body-a")

    assert idempotency.begin(MERCHANT_ID, "5002", "k", "body-b").kind == "new"


def test_ledger_lease_takeover_after_a_crash(world: World) -> None:
    crashed = idempotency.begin(MERCHANT_ID, "5001", "k", "body-a")
    with pytest.raises(IdempotencyKeyInUse):
        idempotency.begin(MERCHANT_ID, "5001", "k", "body-a")

    world.clock.advance(idempotency.LEASE_SECONDS + 1)
    resumed = idempotency.begin(MERCHANT_ID, "5001", "k", "body-a")

    assert resumed.kind == "resume" and resumed.owner != crashed.owner
    idempotency.complete(crashed, {"from": "the crashed attempt"})  # no longer its record
    idempotency.forget(crashed)
    idempotency.complete(resumed, {"from": "the resumed attempt"})
    replay = idempotency.begin(MERCHANT_ID, "5001", "k", "body-a")
    assert replay.response == {"from": "the resumed attempt"}


def test_ledger_forget_frees_the_key(world: World) -> None:
    claim = idempotency.begin(MERCHANT_ID, "5001", "k", "body-a")
    idempotency.forget(claim)

    assert idempotency.begin(MERCHANT_ID, "5001", "k", "body-b").kind == "new"


def test_ledger_claims_a_unique_thing_once(world: World) -> None:
    assert idempotency.claim_holder(MERCHANT_ID, "FULFILLMENT#1") is None
    assert idempotency.claim_once(MERCHANT_ID, "FULFILLMENT#1", "a")
    assert idempotency.claim_once(MERCHANT_ID, "FULFILLMENT#1", "a")  # again: still a's
    assert not idempotency.claim_once(MERCHANT_ID, "FULFILLMENT#1", "b")
    assert idempotency.claim_holder(MERCHANT_ID, "FULFILLMENT#1") == "a"
