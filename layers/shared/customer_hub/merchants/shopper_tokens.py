"""Customer tokens checked against the merchant's token secrets, rotation overlap included."""

from __future__ import annotations

from customer_hub.identity import Customer, InvalidCustomerToken, WrongKey, verify_customer_token
from customer_hub.infra import clock
from customer_hub.infra.secrets import merchant_credentials

# A warm container caches the merchant's secrets for minutes: a token signed with a secret
# rotated meanwhile fails against the cached one, so a cached value older than this is read
# again once (at most one Secrets Manager read per merchant every few seconds for bad tokens).
REREAD_AFTER_SECONDS = 5.0


def verify_shopper_token(token: str, merchant_id: str) -> Customer:
    """The shopper of a customer token signed with the merchant's current token secret, or with
    the previous one until its `previous_valid_until`. Raises InvalidCustomerToken (→ 401);
    Secrets Manager failures raise ServiceBusy (→ 503)."""
    try:
        return _verify(token, merchant_id, reread=False)
    except WrongKey:
        return _verify(token, merchant_id, reread=True)


def _verify(token: str, merchant_id: str, *, reread: bool) -> Customer:
    credentials = (
        merchant_credentials(merchant_id, max_age=REREAD_AFTER_SECONDS)
        if reread
        else merchant_credentials(merchant_id)
    )
    if credentials is None:
        raise InvalidCustomerToken("the shop has no customer token secret")
    error: InvalidCustomerToken = WrongKey("no secret")
    # The rotation overlap is on the project's clock; the token's own times on the wall clock
    # (the scenario tests replay weeks of traffic with tokens minted now).
    for secret in credentials.token_secrets(clock.now()):
        try:
            return verify_customer_token(token, merchant_id, secret)
        except WrongKey as exc:
            error = exc
    raise error
