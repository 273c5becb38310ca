"""Success body of `POST /v1/shops/{merchant_id}/hub/events`."""

from __future__ import annotations

from customer_hub.schemas import ResponseModel


class EventsAccepted(ResponseModel):
    """POST /events (202): events stored now, and events already stored before (same id)."""

    accepted: int
    duplicates: int
