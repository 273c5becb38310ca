"""Smile.io clients for the storefront routes: the merchant's key, tight timeouts per purpose.

Imported lazily (httpx and the client are only loaded when a route really calls Smile), so a
warm or cold read served from snapshots does not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from customer_hub.infra.secrets import read_secret, smile_secret_name

if TYPE_CHECKING:
    from customer_hub.smile import SmileClient

# A read refresh must answer within 1.5 s in all (SPEC: freshness); one attempt, no retry.
READ_BUDGET_SECONDS = 1.5
# A purchase: long enough for Smile, short enough for the function's timeout; retried only
# when Smile cannot have acted (the client's rule for purchases).
PURCHASE_READ_TIMEOUT = 6.0


def smile_api_key(merchant_id: str) -> str | None:
    value = read_secret(smile_secret_name(merchant_id)) or {}
    key = value.get("api_key")
    return str(key) if key else None


def client_for(merchant_id: str, purpose: Literal["read", "purchase"]) -> SmileClient | None:
    """A client on the merchant's Smile key; None when Smile is not connected."""
    key = smile_api_key(merchant_id)
    if key is None:
        return None
    from customer_hub.smile import RetryPolicy, SmileClient, Timeouts
    from customer_hub.smile.budget import READ_WAIT_SECONDS, WAIT_BUDGET_SECONDS

    if purpose == "read":  # one storefront view's calls: their slot waits bounded together
        return SmileClient(
            key,
            timeouts=Timeouts(connect=0.5, read=READ_BUDGET_SECONDS - 0.5),
            retry=RetryPolicy(max_attempts=1, max_seconds=READ_BUDGET_SECONDS),
            wait_budget=READ_WAIT_SECONDS,
        )
    # A redemption's every call (the purchase, its fulfillment polls, a reconciliation's
    # listing) goes first, and all of them wait for slots at most a purchase's budget in all.
    return SmileClient(
        key,
        timeouts=Timeouts(connect=2.0, read=PURCHASE_READ_TIMEOUT),
        retry=RetryPolicy(max_attempts=3, max_seconds=3.0),
        priority="urgent",
        wait_budget=WAIT_BUDGET_SECONDS["urgent"],
    )
