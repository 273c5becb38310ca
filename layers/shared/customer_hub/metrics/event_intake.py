"""POST /events: a shopper's batch of hub interactions, validated and stored once each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from customer_hub.identity import InvalidCustomerToken
from customer_hub.infra import clock
from customer_hub.merchants.profiles import Merchant
from customer_hub.merchants.shopper_tokens import verify_shopper_token
from customer_hub.metrics.hub_events import TOUCHPOINTS, EventType, HubEvent, record
from customer_hub.problems import HubNotLive, Unauthorized, validation_error

MAX_FUTURE = timedelta(minutes=5)
MAX_AGE = timedelta(days=7)


@dataclass(frozen=True)
class Shopper:
    customer_id: str
    email: str


_BAD_TOKEN = Unauthorized("A valid customer token is required (Authorization: Bearer <JWT>).")


def shopper_from_token(token: str | None, merchant_id: str) -> Shopper:
    """The shopper of a required customer token (the storefront's shared verifier)."""
    if not token:
        raise _BAD_TOKEN
    try:
        customer = verify_shopper_token(token, merchant_id)
    except InvalidCustomerToken as exc:
        raise _BAD_TOKEN from exc
    return Shopper(customer_id=customer.shopify_customer_id, email=customer.email)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=128)
    type: EventType
    occurred_at: datetime
    product_id: str | None = Field(default=None, min_length=1, max_length=64)
    order_id: str | None = Field(default=None, min_length=1, max_length=64)
    coupon_code: str | None = Field(default=None, min_length=1, max_length=255)

    @model_validator(mode="after")
    def _touchpoint_names_a_product(self) -> EventIn:
        if self.type in TOUCHPOINTS and not self.product_id:
            raise ValueError(f"{self.type} needs product_id")
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at needs a UTC offset (e.g. 2026-11-23T10:00:00Z)")
        return self


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=25)


def in_time_window(batch: EventBatch) -> EventBatch:
    """The batch (validated as a `Body()` by the route) when every event is in the time
    window, else a 422 locating the first that is not."""
    now = clock.now()
    for index, event in enumerate(batch.events):
        if event.occurred_at > now + MAX_FUTURE:
            raise validation_error(
                ["body", "events", index, "occurred_at"], "more than 5 minutes in the future"
            )
        if event.occurred_at < now - MAX_AGE:
            raise validation_error(["body", "events", index, "occurred_at"], "more than 7 days old")
    return batch


def accept(merchant: Merchant, shopper: Shopper, batch: EventBatch) -> dict[str, int]:
    """Store the events of a live hub; each id once. → {"accepted", "duplicates"}."""
    if merchant.hub_status != "live":
        raise HubNotLive("The Customer Hub is not live; events are not recorded.")
    accepted = duplicates = 0
    for event in batch.events:
        stored = record(
            merchant.merchant_id,
            HubEvent(
                event_id=event.id,
                type=event.type,
                occurred_at=clock.iso(event.occurred_at),
                customer_id=shopper.customer_id,
                email=shopper.email,
                product_id=event.product_id,
                order_id=event.order_id,
                coupon_code=event.coupon_code,
            ),
        )
        if stored:
            accepted += 1
        else:
            duplicates += 1
    return {"accepted": accepted, "duplicates": duplicates}
