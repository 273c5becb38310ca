"""Storefront routes: DynamoDB requests and warm in-process handler latency per route.

Every route function is invoked in process (the local stack's runtime, moto server for
DynamoDB, the Smile.io stand-in) with API Gateway v2 events, against two baselines measured in
the same run:

- a bare Powertools handler (`APIGatewayHttpResolver`, one route returning `{}`), the floor of
  any route here;
- the naive design for `GET /loyalty` and `GET /rewards`: call Smile on every view (program,
  customer, coupons) with the stand-in answering each call in 150 ms, as Smile might.

Figures are medians / 95th percentiles of ITERATIONS warm calls (this machine is shared and
noisy: read the ratios). Not a test: `make bench` or `python -m bench.bench_storefront`.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from bench.common import median, percentile, table, write_result

ITERATIONS = int(os.environ.get("BENCH_STOREFRONT_ITERATIONS", "60"))
NAIVE_ITERATIONS = int(os.environ.get("BENCH_STOREFRONT_NAIVE_ITERATIONS", "12"))
SMILE_LATENCY = 0.150
WARMUP = 3

_baseline_app = APIGatewayHttpResolver()


@_baseline_app.get("/v1/shops/<merchant_id>/hub/loyalty")
def _bare(merchant_id: str) -> dict[str, Any]:
    return {}


def bare_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _baseline_app.resolve(event, context)


_one_read_app = APIGatewayHttpResolver()


@_one_read_app.get("/v1/shops/<merchant_id>/hub/loyalty")
def _one_read(merchant_id: str) -> dict[str, Any]:
    from customer_hub.merchants.profiles import find_merchant

    find_merchant(merchant_id)
    return {}


def one_read_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The bare handler plus one DynamoDB GetItem: the price of one request here."""
    return _one_read_app.resolve(event, context)


class Measured:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seconds: list[float] = []
        self.dynamodb: list[int] = []
        self.smile: list[int] = []
        self.statuses: set[int] = set()


def measure(
    name: str,
    call: Callable[[], Any],
    smile_requests: Callable[[], int],
    iterations: int = ITERATIONS,
) -> Measured:
    from hubdev.metering import metering

    result = Measured(name)
    for index in range(WARMUP + iterations):
        before = smile_requests()
        with metering() as meter:
            started = time.perf_counter()
            response = call()
            elapsed = time.perf_counter() - started
        if index < WARMUP:
            continue
        result.seconds.append(elapsed)
        result.dynamodb.append(meter.total)
        result.smile.append(smile_requests() - before)
        if isinstance(response, dict):
            result.statuses.add(int(response.get("statusCode", 200)))
    return result


def naive_loyalty(smile_url: str, api_key: str, email: str, rewards: bool) -> dict[str, Any]:
    """The design the snapshots replace: every view asks Smile for everything it shows."""
    from customer_hub.loyalty import view as loyalty
    from customer_hub.loyalty.snapshots import Program, choose_customer
    from customer_hub.smile import SmileClient

    with SmileClient(api_key, base_url=smile_url) as smile:
        program = Program(
            points_label=smile.get_points_settings().points_label,
            points_products=smile.list_points_products(),
            earning_rules=smile.list_earning_rules(),
            vip_tiers=smile.list_vip_tiers(),
        )
        customers = [
            c.snapshot(clock_now()) for c in smile.find_customers_by_email(email) if c.email
        ]
        customer = choose_customer(customers)
        state = loyalty.state_of(True, customer)
        if not rewards:
            return loyalty.loyalty_json(state, program, customer, 0, "USD")
        if customer is not None:
            smile.list_reward_fulfillments(customer.smile_customer_id)
        empty: dict[str, list[dict[str, Any]]] = {"applied": [], "available": []}
        return loyalty.rewards_json(state, program, customer, empty, "USD")


def clock_now() -> str:
    from customer_hub.infra import clock

    return clock.iso(clock.now())


def main() -> None:
    from customer_hub.infra.config import config
    from customer_hub.loyalty.snapshots import CouponRecord, save_coupon
    from customer_hub.merchants.profiles import SettingsPatch, update_settings
    from hubdev import events
    from hubdev.smile_standin import SmileStandIn
    from hubdev.stack import LocalStack
    from tests.conftest import make_merchant
    from tests.support.storefront import connect_shop

    stack = LocalStack()
    standin = SmileStandIn(issue_after=0.0).start()
    try:
        os.environ["SMILE_API_BASE_URL"] = standin.url
        config.cache_clear()
        api_key = f"sk_bench_{uuid.uuid4().hex}"
        standin.add_account(api_key)
        shop = connect_shop(make_merchant(), standin, api_key)
        # Live, as a shop in use: redeem and apply record their coupon_applied interaction.
        update_settings(shop.merchant_id, SettingsPatch(hub_status="live"))
        shopper = shop.shopper(balance=10_000_000)
        stranger = shop.shopper(balance=None)  # logged in, no Smile customer (issue 18)
        for fid in range(1, 4):
            save_coupon(
                shop.merchant_id,
                shopper.email,
                CouponRecord(
                    fulfillment_id=fid,
                    smile_customer_id=shopper.smile_id or 0,
                    name="$5 off",
                    code=f"BENCH{fid}",
                    updated_at=clock_now(),
                ),
            )

        def smile_count() -> int:
            return len(standin.requests(shop.account))

        routes = {r.function: r for r in stack.routes}

        def event(function: str, path: str, *, token: bool = True, **kw: Any) -> dict[str, Any]:
            route = routes[function]
            matched = route.pattern.match(path)
            assert matched, (function, path)
            headers = {"origin": shop.origin, **kw.pop("headers", {})}
            if token:
                headers["authorization"] = f"Bearer {shopper.token}"
            return events.http_event(
                route.method if route.method != "ANY" else "GET",
                path,
                route_path=route.path,
                path_parameters=matched.groupdict(),
                headers=headers,
                **kw,
            )

        def invoke(function: str, make: Callable[[], dict[str, Any]]) -> Callable[[], Any]:
            return lambda: stack.runtime.invoke(function, make())

        loyalty_path = shop.path("loyalty")
        runs = [
            measure(
                "bare Powertools handler (baseline)",
                lambda: bare_handler(event("GetLoyaltyFunction", loyalty_path), None),
                smile_count,
            ),
            measure(
                "bare Powertools handler + 1 GetItem (baseline)",
                lambda: one_read_handler(event("GetLoyaltyFunction", loyalty_path), None),
                smile_count,
            ),
            measure(
                "GET /loyalty (anonymous)",
                invoke(
                    "GetLoyaltyFunction",
                    lambda: event("GetLoyaltyFunction", loyalty_path, token=False),
                ),
                smile_count,
            ),
            measure(
                "GET /loyalty (member)",
                invoke("GetLoyaltyFunction", lambda: event("GetLoyaltyFunction", loyalty_path)),
                smile_count,
            ),
            measure(
                "GET /loyalty (logged in, not a Smile member: looked up once, miss noted)",
                invoke(
                    "GetLoyaltyFunction",
                    lambda: event(
                        "GetLoyaltyFunction",
                        loyalty_path,
                        token=False,
                        headers={"authorization": f"Bearer {stranger.token}"},
                    ),
                ),
                smile_count,
            ),
            measure(
                "GET /rewards",
                invoke(
                    "GetRewardsFunction", lambda: event("GetRewardsFunction", shop.path("rewards"))
                ),
                smile_count,
            ),
            measure(
                "GET /coupons",
                invoke(
                    "GetCouponsFunction", lambda: event("GetCouponsFunction", shop.path("coupons"))
                ),
                smile_count,
            ),
            measure(
                "POST /coupons/{id}/apply",
                invoke(
                    "ApplyCouponFunction",
                    lambda: event("ApplyCouponFunction", shop.path("coupons/2/apply")),
                ),
                smile_count,
            ),
            measure(
                "POST /rewards/{id}/redeem",
                invoke(
                    "RedeemRewardFunction",
                    lambda: event(
                        "RedeemRewardFunction",
                        shop.path("rewards/11/redeem"),
                        headers={"idempotency-key": str(uuid.uuid4())},
                        body={},
                    ),
                ),
                smile_count,
                iterations=max(10, ITERATIONS // 3),
            ),
            measure(
                "OPTIONS preflight",
                invoke(
                    "StorefrontPreflightFunction",
                    lambda: event(
                        "StorefrontPreflightFunction", shop.path("rewards/11/redeem"), token=False
                    ),
                ),
                smile_count,
            ),
        ]
        shop.account.faults.update({"slow_seconds": SMILE_LATENCY})
        for name, rewards in (("naive GET /loyalty", False), ("naive GET /rewards", True)):
            runs.append(
                measure(
                    f"{name} (Smile on every view, 150 ms per call)",
                    lambda rewards=rewards: naive_loyalty(  # type: ignore[misc]
                        standin.url, api_key, shopper.email, rewards
                    ),
                    smile_count,
                    iterations=NAIVE_ITERATIONS,
                )
            )
        shop.account.faults.update({"slow_seconds": 0.0})
    finally:
        standin.stop()
        stack.stop()

    baseline, one_read = median(runs[0].seconds), median(runs[1].seconds)
    rows = []
    for run in runs:
        p50, p95 = median(run.seconds), percentile(run.seconds, 0.95)
        rows.append(
            [
                run.name,
                f"{p50 * 1000:.1f} ms",
                f"{p95 * 1000:.1f} ms",
                f"{p50 / baseline:.1f}x",
                f"{p50 / one_read:.1f}x",
                f"{median([float(d) for d in run.dynamodb]):.0f} (max {max(run.dynamodb)})",
                f"{median([float(s) for s in run.smile]):.0f}",
                ", ".join(str(s) for s in sorted(run.statuses)) or "-",
            ]
        )
    member = next(r for r in runs if r.name == "GET /loyalty (member)")
    redeemed = next(r for r in runs if r.name == "POST /rewards/{id}/redeem")
    naive = next(r for r in runs if r.name.startswith("naive GET /loyalty"))
    body = (
        f"Warm handler latency in process ({ITERATIONS} calls each after {WARMUP} warm-ups; "
        f"redeem {max(10, ITERATIONS // 3)}, naive {NAIVE_ITERATIONS}), DynamoDB requests and "
        "Smile.io requests per call. DynamoDB is moto in server mode on 127.0.0.1, so absolute "
        "latencies are local; the ratios to the bare Powertools handler measured in the same run "
        "are what to compare: a bare Powertools handler, and the same plus one DynamoDB GetItem "
        f"({one_read * 1000:.1f} ms here: nearly all of a read's time is its DynamoDB round "
        "trips).\n\n"
        f"A warm member `GET /loyalty` makes **{max(member.dynamodb)}** DynamoDB requests "
        f"(target 1: issue 18) and no Smile call; it answers in **{median(member.seconds) * 1000:.1f} ms** "
        f"p50 against **{median(naive.seconds) * 1000:.0f} ms** for the naive design "
        f"(**{median(naive.seconds) / median(member.seconds):.0f}x** slower, "
        f"{median([float(s) for s in naive.smile]):.0f} Smile calls per view, which at Smile's "
        "10 requests/s per merchant caps a shop at about 2 views per second).\n\n"
        f"A fixed-price redemption whose coupon Smile issues at once makes "
        f"**{max(redeemed.dynamodb)}** DynamoDB requests (target ≤ 8; 15 before issue 13) and "
        f"**{max(redeemed.smile)}** Smile requests (target ≤ 2).\n\n"
        + table(
            [
                "route",
                "p50",
                "p95",
                "p50 vs bare",
                "p50 vs bare + 1 GetItem",
                "DynamoDB req/call",
                "Smile req/call",
                "status",
            ],
            rows,
        )
        + "\n\nRedeem latency includes Smile's purchase, one poll of the fulfillment Smile "
        "issues asynchronously (0.1 s wait) and the local writes: the idempotency record, the "
        "shopper's two partitions, the points hold, then one TransactWriteItems (fulfillment "
        "claim, coupon in two partitions, code index, balance debit, hub event, idempotency "
        "answer); back-to-back redemptions "
        "on one Smile key are also paced by the shared Smile limiter of issue 18 (one slot "
        "booked per Smile call: a conditional UpdateItem, counted in the DynamoDB column; 2 "
        "Smile calls each)."
    )
    write_result("storefront", "Storefront loyalty routes: DynamoDB requests and latency", body)
    print(body)


if __name__ == "__main__":
    main()
