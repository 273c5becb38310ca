"""Concurrent requests in one process never see each other's event (hub dev serves threads)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import make_merchant
from tests.support.api import InProcessApi, assert_problem
from tests.support.storefront import Shop


def test_parallel_requests_of_different_merchants_stay_apart(api: InProcessApi) -> None:
    merchants = [make_merchant(name=f"Parallel {i}") for i in range(6)]

    def round_trip(index: int) -> list[tuple[str, str]]:
        merchant = merchants[index % len(merchants)]
        seen = []
        for hours in range(1, 6):
            patched = api.patch(
                "/v1/admin/settings",
                api_key=merchant.api_key,
                json_body={"cart_window_hours": hours + index},
            )
            read = api.get("/v1/admin/settings", api_key=merchant.api_key)
            seen.append((merchant.merchant_id, patched.json["merchant_id"]))
            seen.append((merchant.merchant_id, read.json["merchant_id"]))
        return seen

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = [pair for batch in pool.map(round_trip, range(24)) for pair in batch]
    mixed = [(expected, got) for expected, got in results if expected != got]
    assert not mixed, f"{len(mixed)} of {len(results)} responses answered another merchant"


LANGUAGES = ("en", "pl", "pt-BR")


def test_parallel_storefront_requests_are_validated_and_answered_with_their_own_event(
    api: InProcessApi, shop: Shop
) -> None:
    """Shoppers of one shop in parallel threads: each answer has its own language, CORS origin
    and validation (a bad body refused, a good request served) — never a neighbour's."""
    shopper = shop.shopper(balance=350)

    def round_trip(index: int) -> list[str]:
        language = LANGUAGES[index % len(LANGUAGES)]
        origin = shop.origin if index % 2 else "https://elsewhere.example.com"
        headers = {"accept-language": language, "origin": origin}
        wrong: list[str] = []
        for _ in range(4):
            read = api.get(shop.path("loyalty"), token=shopper.token, headers=headers)
            refused = api.post(
                shop.path("coupons/1/apply"),
                token=shopper.token,
                json_body={f"field_{index}": 1},
                headers=headers,
            )
            for reply in (read, refused):
                if reply.headers.get("content-language") != language:
                    wrong.append(f"{index}: language {reply.headers.get('content-language')}")
                allowed = reply.headers.get("access-control-allow-origin")
                if allowed != (origin if index % 2 else None):
                    wrong.append(f"{index}: CORS origin {allowed}")
            if read.status != 200:
                wrong.append(f"{index}: read {read.status}")
            if refused.status != 422 or refused.json["errors"][0]["loc"] != [
                "body",
                f"field_{index}",
            ]:
                wrong.append(f"{index}: validated {refused.status} {refused.body[:120]!r}")
        return wrong

    with ThreadPoolExecutor(max_workers=8) as pool:
        wrong = [line for batch in pool.map(round_trip, range(16)) for line in batch]
    assert not wrong, wrong[:10]


def test_a_request_refused_before_the_resolver_never_answers_with_the_previous_event(
    api: InProcessApi, shop: Shop
) -> None:
    """Same thread, one after the other: a request `checked_request` refuses (malformed shop id,
    oversized body) gets the language and CORS of its own headers, not of the request before."""
    served = api.get(shop.path("loyalty"), headers={"accept-language": "pl", "origin": shop.origin})
    assert served.status == 200 and served.headers["content-language"] == "pl"

    unknown = api.get("/v1/shops/m_not_a_shop/hub/loyalty", headers={"accept-language": "pt"})
    assert_problem(unknown, 404, "not-found")
    assert unknown.headers["content-language"] == "pt-BR"
    assert "access-control-allow-origin" not in unknown.headers

    api.get(shop.path("loyalty"), headers={"accept-language": "pl", "origin": shop.origin})
    too_large = api.post(
        shop.path("events"), body=b'{"events": "' + b"x" * 70_000 + b'"}', headers={}
    )
    assert_problem(too_large, 413, "payload-too-large")
    assert too_large.headers["content-language"] == "en"
    assert "access-control-allow-origin" not in too_large.headers
