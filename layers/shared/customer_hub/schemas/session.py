"""Success body of POST /v1/shops/{merchant_id}/hub/session (API.md §Identity)."""

from __future__ import annotations

from pydantic import Field

from customer_hub.schemas import ResponseModel, Timestamp


class CustomerSession(ResponseModel):
    """A customer token for the shopper the theme signed; send it as `Authorization: Bearer`."""

    customer_token: str = Field(description="HS256 JWT, at most one hour long")
    expires_at: Timestamp
