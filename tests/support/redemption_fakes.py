"""What the redemption unit tests run on: the in-memory ports, a Smile fake and a movable clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from customer_hub.identity import Customer
from customer_hub.infra import clock
from customer_hub.loyalty.snapshots import (
    CustomerSnapshot,
    PointsProduct,
    Program,
    email_pk,
)
from customer_hub.merchants.profiles import Merchant
from customer_hub.redemption import finishing, holds, idempotency, protocol, reconciliation
from customer_hub.redemption.memory import MemoryHolds, MemoryLedger, MemoryWrites
from customer_hub.shoppers.reads import ShopperData
from customer_hub.smile import RewardFulfillment, SmileUnavailable, SmileUnprocessable
from customer_hub.smile.models import PointsPurchase

MERCHANT_ID = "m_0123456789abcdef"
START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FIVE_OFF = PointsProduct.model_validate(
    {"id": 11, "exchange_type": "fixed", "points_price": 100, "reward": {"name": "$5 off"}}
)
DOLLARS = PointsProduct.model_validate(
    {
        "id": 12,
        "exchange_type": "variable",
        "variable_points_step": 100,
        "variable_points_step_reward_value": 1,
        "variable_points_min": 100,
        "variable_points_max": 1000,
        "reward": {"name": "$ off"},
    }
)


class Clock:
    def __init__(self) -> None:
        self.moment = START

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@dataclass
class FakeSmile:
    """Smile's purchase and fulfillment listing. `mode`: "ok"; "refused" (422, nothing spent);
    "down" (503 before Smile acted); "lost" (Smile bought, the answer was lost); "lost-unbought"
    (the answer was lost and Smile never bought)."""

    mode: str = "ok"
    fulfillments: list[RewardFulfillment] = field(default_factory=list)
    purchases: int = 0

    def __enter__(self) -> FakeSmile:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def fulfill(self, customer_id: int, name: str) -> RewardFulfillment:
        """A fulfillment Smile created now (by this purchase, or another one)."""
        fid = 900 + len(self.fulfillments)
        at = clock.iso(clock.now())
        made = RewardFulfillment(
            id=fid,
            customer_id=customer_id,
            name=name,
            code=f"HUB-{fid}",
            created_at=at,
            updated_at=at,
        )
        self.fulfillments.append(made)
        return made

    def purchase(
        self, product_id: int, customer_id: int, points: int | None = None
    ) -> PointsPurchase:
        self.purchases += 1
        if self.mode == "refused":
            raise SmileUnprocessable("not enough points", status=422)
        if self.mode == "down":
            raise SmileUnavailable("Smile.io answered 503", status=503)
        if self.mode == "lost-unbought":
            raise _lost()
        product = FIVE_OFF if product_id == FIVE_OFF.id else DOLLARS
        made = self.fulfill(customer_id, protocol.fulfillment_name(product, points or 100))
        if self.mode == "lost":
            raise _lost()
        spent = points or int(product.points_price or 0)
        return PointsPurchase(
            id=self.purchases,
            customer_id=customer_id,
            points_product_id=product_id,
            points_spent=spent,
            reward_fulfillment=made,
        )

    def list_reward_fulfillments(
        self, customer_id: int, *, updated_at_min: str | None = None
    ) -> list[RewardFulfillment]:
        return [f for f in self.fulfillments if f.customer_id == customer_id]

    def get_reward_fulfillment(
        self, fulfillment_id: int, customer_id: int
    ) -> RewardFulfillment | None:
        return next((f for f in self.fulfillments if f.id == fulfillment_id), None)


def _lost() -> SmileUnavailable:
    error = SmileUnavailable("Smile.io answered 504", status=504)
    error.maybe_acted = True
    return error


@dataclass
class World:
    """A live shop whose member has `points` points, on fakes."""

    clock: Clock
    ledger: MemoryLedger
    holds: MemoryHolds
    writes: MemoryWrites
    smile: FakeSmile
    merchant: Merchant
    shopper: Customer

    def snapshot(self, points: int = 500, synced_at: datetime | None = None) -> None:
        """Smile's view of the member, as a sync writes it (holds kept)."""
        at = clock.iso(synced_at or self.clock.now())
        self.holds.save(
            MERCHANT_ID,
            CustomerSnapshot(
                smile_customer_id=7,
                email=self.shopper.email,
                state="member",
                points_balance=points,
                updated_at=at,
                synced_at=at,
            ),
        )

    @property
    def key(self) -> tuple[str, str]:
        return email_pk(MERCHANT_ID, self.shopper.email), "CUSTOMER#7"

    def stored(self) -> dict[str, Any]:
        return self.holds.items[self.key]

    def load(self, merchant: Merchant, shopper: Customer) -> ShopperData:
        """`shoppers.load` on the fakes: the stored snapshot, live holds excluded."""
        customer = self.holds.read(*self.key)
        shown = customer.with_holds_applied(clock.now()) if customer else None
        program = Program(points_products=[FIVE_OFF, DOLLARS])
        return ShopperData(merchant, shopper, program, shown, [])

    def redeem(
        self, key: str = "key-1", product: PointsProduct = FIVE_OFF, points: int | None = None
    ) -> tuple[dict[str, Any], bool]:
        body = protocol.RedeemBody(points_to_spend=points)
        return protocol.redeem(self.merchant, self.shopper, str(product.id), body, key)


def make_world(monkeypatch: pytest.MonkeyPatch) -> World:
    moved = Clock()
    monkeypatch.setattr(clock, "now", moved.now)
    ledger, store = MemoryLedger(), MemoryHolds()
    writes = MemoryWrites(ledger, store)
    smile = FakeSmile()
    monkeypatch.setattr(idempotency, "ledger", ledger)
    monkeypatch.setattr(holds, "store", store)
    monkeypatch.setattr(finishing, "writes", writes)
    monkeypatch.setattr(protocol, "smile_for", lambda _merchant_id, _purpose: smile)
    monkeypatch.setattr(reconciliation, "POLL_DELAYS", (0.0,))
    monkeypatch.setattr(reconciliation, "RECONCILE_POLLS", (0.0, 0.0))
    merchant = Merchant(
        merchant_id=MERCHANT_ID,
        name="Shop",
        shop_domain="shop.myshopify.com",
        timezone="UTC",
        currency="USD",
        hub_status="live",
        created_at=clock.iso(START),
        smile_connected=True,
    )
    shopper = Customer(shopify_customer_id="5001", email="ana@example.com")
    made = World(moved, ledger, store, writes, smile, merchant, shopper)
    monkeypatch.setattr(protocol, "load_shopper", made.load)
    made.snapshot()
    return made
