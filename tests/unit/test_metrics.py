"""Pure roll-up functions: local days across DST, active-account blocks, attribution."""

from __future__ import annotations

import random
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from customer_hub.metrics.model import (
    Order,
    OrderLine,
    Touchpoint,
    attribute,
    attribution_signature,
    blocks_of_day,
    covering_blocks,
    day_bounds_utc,
    event_counters,
    local_day,
    order_counters,
)

WARSAW = ZoneInfo("Europe/Warsaw")
SYDNEY = ZoneInfo("Australia/Sydney")


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        (WARSAW, date(2026, 3, 29), 23),
        (WARSAW, date(2026, 10, 25), 25),
        (WARSAW, date(2026, 11, 23), 24),
        (SYDNEY, date(2026, 10, 4), 23),
        (SYDNEY, date(2026, 4, 5), 25),
    ],
)
def test_local_days_last_23_24_or_25_hours(zone: ZoneInfo, day: date, hours: int) -> None:
    start, end = day_bounds_utc(day, day, zone)
    assert end - start == timedelta(hours=hours)
    assert local_day(start, zone) == day
    assert local_day(end - timedelta(seconds=1), zone) == day
    assert local_day(end, zone) == day + timedelta(days=1)


def test_events_are_bucketed_by_their_own_local_day_across_the_autumn_switch() -> None:
    # 25-hour day in Warsaw: 2026-10-24T22:00Z (00:00 CEST) .. 2026-10-25T23:00Z (00:00 CET).
    assert local_day("2026-10-24T21:59:59Z", WARSAW) == date(2026, 10, 24)
    assert local_day("2026-10-24T22:00:00Z", WARSAW) == date(2026, 10, 25)
    assert local_day("2026-10-25T22:59:59Z", WARSAW) == date(2026, 10, 25)
    assert local_day("2026-10-25T23:00:00Z", WARSAW) == date(2026, 10, 26)
    counted = event_counters("help_clicked", "2026-10-25T22:30:00Z", WARSAW)
    assert counted.days == {date(2026, 10, 25): {"si_help_clicked": 1}}


def test_every_day_belongs_to_one_block_per_level() -> None:
    blocks = blocks_of_day(date(2026, 11, 23))
    assert [level for level, _ in blocks] == list(range(9))
    ordinal = date(2026, 11, 23).toordinal()
    for level, start in blocks:
        assert start % (1 << level) == 0 and start <= ordinal < start + (1 << level)


def test_covering_blocks_tile_any_range_exactly_with_few_blocks() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        first = date(2024, 1, 1) + timedelta(days=rng.randrange(1500))
        last = first + timedelta(days=rng.randrange(366))
        blocks = covering_blocks(first, last)
        days = [s + d for level, s in blocks for d in range(1 << level)]
        assert days == list(range(first.toordinal(), last.toordinal() + 1))
        assert len(blocks) <= 16
    assert covering_blocks(date(2026, 1, 2), date(2026, 1, 1)) == []


def _order(at: str = "2026-11-20T12:00:00Z", codes: tuple[str, ...] = ()) -> Order:
    return Order(
        order_id="1001",
        name="#1001",
        customer_id="42",
        created_at=at,
        lines=(
            OrderLine(0, "111", "Shirt", 2, 5000),
            OrderLine(1, "222", "Tote", 1, 2500),
            OrderLine(2, None, "Custom item", 1, 700),
        ),
        discount_codes=codes,
        subtotal=8200,
        total=9000,
        logged_in=True,
    )


def _touch(at: str, product: str = "111", kind: str = "product_clicked", n: int = 1) -> Touchpoint:
    return Touchpoint(event_id=f"e{n}", type=kind, occurred_at=at, product_id=product)


@pytest.mark.parametrize(
    ("touched_at", "attributed"),
    [
        ("2026-11-19T12:00:00Z", True),  # exactly 24 hours before
        ("2026-11-19T11:59:59Z", False),  # 24 hours and 1 second before
        ("2026-11-20T11:59:59Z", True),
        ("2026-11-20T12:00:00Z", False),  # the same second as the order
        ("2026-11-20T12:00:01Z", False),  # after the order
    ],
)
def test_the_24_hour_window_to_the_second(touched_at: str, attributed: bool) -> None:
    lines = attribute(_order(), [_touch(touched_at)])
    assert [(line.product_id, line.amount) for line in lines] == (
        [("111", 5000)] if attributed else []
    )


def test_each_touched_product_is_attributed_to_its_latest_touch_point() -> None:
    lines = attribute(
        _order(),
        [
            _touch("2026-11-20T08:00:00Z", "111", "product_clicked", 1),
            _touch("2026-11-20T09:00:00Z", "111", "product_added_to_cart", 2),
            _touch("2026-11-20T10:00:00Z", "222", "buy_again_clicked", 3),
            _touch("2026-11-20T10:30:00Z", "333", "product_clicked", 4),
        ],
    )
    assert [(line.product_id, line.touchpoint, line.touchpoint_at) for line in lines] == [
        ("111", "product_added_to_cart", "2026-11-20T09:00:00Z"),
        ("222", "buy_again_clicked", "2026-11-20T10:00:00Z"),
    ]


def test_the_coupon_rule_attributes_the_whole_order_without_double_counting() -> None:
    coupon = Touchpoint("c1", "coupon_applied", "2026-11-20T07:00:00Z", coupon_code="hub-10")
    touches = [coupon, _touch("2026-11-20T09:00:00Z", "111")]
    lines = attribute(_order(codes=("HUB-10",)), touches)
    assert [(line.product_id, line.touchpoint) for line in lines] == [
        ("111", "product_clicked"),
        ("222", "coupon"),
        (None, "coupon"),
    ]
    assert sum(line.amount for line in lines) == 8200, "the order subtotal, once"


def test_the_coupon_rule_needs_the_same_code_within_the_window() -> None:
    other = Touchpoint("c1", "coupon_applied", "2026-11-20T07:00:00Z", coupon_code="OTHER")
    stale = Touchpoint("c2", "coupon_applied", "2026-11-19T11:00:00Z", coupon_code="HUB-10")
    assert attribute(_order(codes=("HUB-10",)), [other, stale]) == []


def test_a_touch_point_arriving_after_the_order_changes_the_outcome_deterministically() -> None:
    order = _order()
    before = attribute(order, [])
    touches = [_touch("2026-11-20T11:00:00Z")]
    after = attribute(order, touches)
    assert before == [] and len(after) == 1
    assert attribution_signature(after) == attribution_signature(attribute(order, touches[::-1]))


def test_a_guest_order_is_never_attributed() -> None:
    guest = Order(
        "1",
        "#1",
        None,
        "2026-11-20T12:00:00Z",
        (OrderLine(0, "111", "S", 1, 10),),
        (),
        10,
        10,
        False,
    )
    assert attribute(guest, [_touch("2026-11-20T11:00:00Z")]) == []


def test_only_logged_in_checkouts_feed_aov() -> None:
    order = _order(at="2026-10-25T22:30:00Z")
    assert order_counters(order, WARSAW).days == {
        date(2026, 10, 25): {"aov_orders": 1, "aov_revenue": 9000}
    }
    guest = Order("2", "#2", "42", "2026-11-20T12:00:00Z", (), (), 0, 500, False)
    assert not order_counters(guest, WARSAW).days
