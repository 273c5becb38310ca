"""Merchant credentials: API keys (only their hash is stored) and generated secrets."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import time
from dataclasses import dataclass

API_KEY_PREFIX = "chk_"


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_merchant_id() -> str:
    return "m_" + secrets.token_hex(8)


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


# ------------------------------------------------------------------ customer tokens (storefront)
CUSTOMER_TOKEN_ALGORITHM = "HS256"  # noqa: S105 - an algorithm name, not a secret
CUSTOMER_TOKEN_MAX_LIFETIME = 3600
CUSTOMER_TOKEN_LEEWAY = 30
_DIGITS = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True)
class Customer:
    """A shopper identified by a valid customer token."""

    shopify_customer_id: str
    email: str


class InvalidCustomerToken(ValueError):
    """The token is not a valid customer token of this merchant (the reason is for logs)."""


class WrongKey(InvalidCustomerToken):
    """The token's signature does not match this secret (another may: a rotation overlap)."""


def mint_customer_token(
    merchant_id: str,
    secret: str,
    sub: str,
    email: str,
    ttl: int = 300,
    *,
    issued_at: int | None = None,
) -> str:
    """A customer token as the shop's server side mints it (tests, demo storefront)."""
    import jwt  # only the storefront needs PyJWT: other functions do not pay for its import

    now = int(time.time()) if issued_at is None else issued_at
    claims = {"iss": merchant_id, "sub": sub, "email": email, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=CUSTOMER_TOKEN_ALGORITHM)


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def verify_customer_token(
    token: str, merchant_id: str, secret: str, *, now: float | None = None
) -> Customer:
    """API.md's customer token: HS256 only, `iss` = this merchant, `exp`/`iat` with a small
    leeway, at most an hour long, `sub` digits and `email` present."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != CUSTOMER_TOKEN_ALGORITHM:
            raise InvalidCustomerToken(f"algorithm {header.get('alg')!r}")
        claims = jwt.decode(
            token,
            secret,
            algorithms=[CUSTOMER_TOKEN_ALGORITHM],
            issuer=merchant_id,
            leeway=CUSTOMER_TOKEN_LEEWAY,
            options={
                "require": ["exp", "iat", "iss", "sub", "email"],
                # Times are checked below against `now` (the project's clock), not PyJWT's.
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise WrongKey(type(exc).__name__) from exc
    except jwt.PyJWTError as exc:
        raise InvalidCustomerToken(type(exc).__name__) from exc
    except (OverflowError, ValueError, TypeError) as exc:  # PyJWT's int() of inf / NaN `iat`
        raise InvalidCustomerToken("exp/iat are not finite numbers") from exc
    moment = time.time() if now is None else now
    exp, iat = claims["exp"], claims["iat"]
    if not (_finite_number(exp) and _finite_number(iat)):
        raise InvalidCustomerToken("exp/iat are not finite numbers")
    if exp + CUSTOMER_TOKEN_LEEWAY < moment:
        raise InvalidCustomerToken("expired")
    if iat - CUSTOMER_TOKEN_LEEWAY > moment:
        raise InvalidCustomerToken("issued in the future")
    if exp - iat > CUSTOMER_TOKEN_MAX_LIFETIME:
        raise InvalidCustomerToken("lifetime above one hour")
    sub, email = claims["sub"], claims["email"]
    if not isinstance(sub, str) or not _DIGITS.fullmatch(sub):
        raise InvalidCustomerToken("sub is not a Shopify customer id")
    if not isinstance(email, str) or "@" not in email or len(email) > 320:
        raise InvalidCustomerToken("email missing")
    return Customer(shopify_customer_id=sub, email=email.strip().lower())


# ------------------------------------------------------------------ Liquid-signed sessions
SESSION_VERSION = "v1"
SESSION_MAX_AGE = 24 * 3600
SESSION_MAX_AHEAD = 300
SESSION_TOKEN_LIFETIME = CUSTOMER_TOKEN_MAX_LIFETIME


class InvalidSession(ValueError):
    """A theme-signed session that does not verify (the reason is for logs only)."""


def session_message(merchant_id: str, customer_id: str, issued_at: int, email: str) -> str:
    """The string a theme signs (API.md §Identity); versioned so it can change safely."""
    return f"customer-hub-session:{SESSION_VERSION}:{merchant_id}:{customer_id}:{issued_at}:{email}"


def session_signature(
    secret: str, merchant_id: str, customer_id: str, issued_at: int, email: str
) -> str:
    """Lowercase hex HMAC-SHA256 of the session message: what Liquid's `hmac_sha256` renders."""
    message = session_message(merchant_id, customer_id, issued_at, email)
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_session(
    secret: str,
    merchant_id: str,
    customer_id: str,
    issued_at: int,
    email: str,
    signature: str,
    *,
    now: float | None = None,
) -> None:
    """Raise InvalidSession unless `signature` signs these fields and `issued_at` is at most
    24 hours old and at most 5 minutes ahead. The signature is compared in constant time."""
    expected = session_signature(secret, merchant_id, customer_id, issued_at, email)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "ignore")):
        raise InvalidSession("signature")
    moment = time.time() if now is None else now
    if issued_at < moment - SESSION_MAX_AGE:
        raise InvalidSession("issued more than 24 hours ago")
    if issued_at > moment + SESSION_MAX_AHEAD:
        raise InvalidSession("issued more than 5 minutes ahead")
