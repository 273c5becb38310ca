"""Metric roll-ups, pure: local days, active-account blocks, revenue attribution (SPEC §6).

Nothing here does I/O. `customer_hub.metrics.rollups` applies these functions to stream batches and
`customer_hub.metrics.dashboard` reads what they produced.

Rules fixed here:
- A figure is bucketed by the **local day** (merchant time zone) of its business time: an
  event's `occurred_at`, an order's `created_at`.
- Active accounts are exact: every account gets a dense ordinal, and each aligned block of
  `2**level` days (level 0..8, aligned on the proleptic Gregorian day ordinal) keeps a
  compressed bitmap of the ordinals active in it. A date range is the OR of the few blocks
  that cover it exactly (`covering_blocks`).
- A block's bitmap is sharded by the high bits of the ordinal: shard `s` holds the ordinals
  `s * 2**SHARD_BITS ..` of the block (`shard_sk`), so an item holds at most `2**SHARD_BITS`
  ordinals whatever the merchant's size: at most 4 roaring containers of 8 KiB, about 32 KiB.
  Shards never overlap, so the OR of a range stays exact; a read needs every shard below the
  merchant's `next_ordinal` (`shard_count`).
- Attribution window: a touch-point at `t` counts for an order at `o` when `o - 24h <= t < o`.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from customer_hub.infra import clock
from customer_hub.metrics.hub_events import SERVICE_INTERACTIONS, TOUCHPOINTS

ATTRIBUTION_WINDOW = timedelta(hours=24)
MAX_BLOCK_LEVEL = 8  # blocks of 1, 2, 4, ... 256 days
SHARD_BITS = 18  # 262 144 ordinals per bitmap item: 4 roaring containers, <= ~33 KB
COUPON_TOUCHPOINT = "coupon"


# ------------------------------------------------------------------ days
def local_day(moment: datetime | str, zone: ZoneInfo) -> date:
    """The merchant-local calendar day of a moment (DST-safe: zoneinfo does the offsets)."""
    if isinstance(moment, str):
        moment = clock.parse_iso(moment)
    return moment.astimezone(zone).date()


def day_start_utc(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local day, in UTC (a 23- or 25-hour day still starts at 00:00)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def day_bounds_utc(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local days first..last inclusive."""
    return day_start_utc(first, zone), day_start_utc(last + timedelta(days=1), zone)


# ------------------------------------------------------------------ active-account blocks
Block = tuple[int, int]  # (level, first day ordinal); covers 2**level days


def blocks_of_day(day: date) -> list[Block]:
    """Every block that contains this day, one per level."""
    ordinal = day.toordinal()
    return [(level, ordinal - ordinal % (1 << level)) for level in range(MAX_BLOCK_LEVEL + 1)]


def covering_blocks(first: date, last: date) -> list[Block]:
    """The fewest aligned blocks whose union is exactly first..last (at most ~2 per level)."""
    if last < first:
        return []
    position, end = first.toordinal(), last.toordinal()
    blocks: list[Block] = []
    while position <= end:
        level = MAX_BLOCK_LEVEL
        while level > 0 and (position % (1 << level) or position + (1 << level) - 1 > end):
            level -= 1
        blocks.append((level, position))
        position += 1 << level
    return blocks


def block_sk(block: Block, shard: int = 0) -> str:
    """Shard 0 keeps the unsharded key, so bitmaps written before sharding stay readable."""
    level, start = block
    return f"L{level}#{start:07d}" + (f"#S{shard:05d}" if shard else "")


def shard_of(ordinal: int) -> int:
    return ordinal >> SHARD_BITS


def shard_count(next_ordinal: int) -> int:
    """How many shards hold ordinals 0..next_ordinal-1 (at least one)."""
    return max(1, -(-next_ordinal // (1 << SHARD_BITS)))


# ------------------------------------------------------------------ orders and attribution
@dataclass(frozen=True)
class OrderLine:
    index: int
    product_id: str | None
    title: str
    quantity: int
    amount: int  # minor units, after line discounts (discount allocations)


@dataclass(frozen=True)
class Order:
    order_id: str
    name: str
    customer_id: str | None
    created_at: str  # UTC ISO 8601
    lines: tuple[OrderLine, ...]
    discount_codes: tuple[str, ...]
    subtotal: int
    total: int
    logged_in: bool


@dataclass(frozen=True)
class Touchpoint:
    event_id: str
    type: str  # a TOUCHPOINTS type, or coupon_applied with a coupon code
    occurred_at: str
    product_id: str | None = None
    coupon_code: str | None = None


@dataclass(frozen=True)
class AttributedLine:
    order_id: str
    order_name: str
    line_index: int
    product_id: str | None
    product_title: str
    quantity: int
    amount: int
    touchpoint: str
    touchpoint_at: str
    ordered_at: str


def in_window(touch_at: str, order_at: str) -> bool:
    """SPEC §6.2: within the 24 hours before the order (24 h exactly counts, 0 s does not)."""
    touch, order = clock.parse_iso(touch_at), clock.parse_iso(order_at)
    return order - ATTRIBUTION_WINDOW <= touch < order


def attribute(order: Order, touchpoints: Iterable[Touchpoint]) -> list[AttributedLine]:
    """The order's attributed lines given the customer's touch-points (any order, any window).

    Product rule first: a line whose product the customer touched within the window is
    attributed to the latest such touch-point. Coupon rule: when the order used a code the
    customer applied in the hub within the window, every other line is attributed too
    (the order in full), so no line is ever counted twice.
    """
    if not order.customer_id:
        return []
    window = sorted(
        (tp for tp in touchpoints if in_window(tp.occurred_at, order.created_at)),
        key=lambda tp: (tp.occurred_at, tp.event_id),
    )
    latest_for_product: dict[str, Touchpoint] = {}
    codes = {code.strip().lower() for code in order.discount_codes}
    coupon: Touchpoint | None = None
    for tp in window:
        if tp.type in TOUCHPOINTS and tp.product_id:
            latest_for_product[tp.product_id] = tp
        elif tp.type == "coupon_applied" and (tp.coupon_code or "").strip().lower() in codes:
            coupon = tp
    attributed = []
    for line in order.lines:
        touch = latest_for_product.get(line.product_id or "")
        kind = touch.type if touch else COUPON_TOUCHPOINT
        if touch is None and coupon is not None:
            touch = coupon
        if touch is None:
            continue
        attributed.append(
            AttributedLine(
                order_id=order.order_id,
                order_name=order.name,
                line_index=line.index,
                product_id=line.product_id,
                product_title=line.title,
                quantity=line.quantity,
                amount=line.amount,
                touchpoint=kind,
                touchpoint_at=touch.occurred_at,
                ordered_at=order.created_at,
            )
        )
    return attributed


def attribution_signature(lines: Iterable[AttributedLine]) -> str:
    """A stable fingerprint of an order's attribution (the stored state is compared to it)."""
    payload = json.dumps([asdict(line) for line in lines], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


# ------------------------------------------------------------------ day counters
SERVICE_FIELDS = {kind: f"si_{kind}" for kind in SERVICE_INTERACTIONS}
NEW_ACCOUNTS = "new_accounts"
AOV_ORDERS = "aov_orders"
AOV_REVENUE = "aov_revenue"
REVENUE = "revenue"
TOTAL_ACCOUNTS = "accounts"


@dataclass
class CounterDeltas:
    """Additions to day counters and merchant totals, coalesced by item."""

    days: dict[date, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    totals: dict[str, int] = field(default_factory=dict)

    def add_day(self, day: date, name: str, amount: int) -> None:
        counters = self.days[day]
        counters[name] = counters.get(name, 0) + amount

    def add_total(self, name: str, amount: int) -> None:
        self.totals[name] = self.totals.get(name, 0) + amount

    def merge(self, other: CounterDeltas) -> None:
        for day, counters in other.days.items():
            for name, amount in counters.items():
                self.add_day(day, name, amount)
        for name, amount in other.totals.items():
            self.add_total(name, amount)

    @property
    def item_count(self) -> int:
        return len(self.days) + (1 if self.totals else 0)


def event_counters(event_type: str, occurred_at: str, zone: ZoneInfo) -> CounterDeltas:
    deltas = CounterDeltas()
    day = local_day(occurred_at, zone)
    if event_type in SERVICE_FIELDS:  # opens are counted as distinct accounts (bitmaps)
        deltas.add_day(day, SERVICE_FIELDS[event_type], 1)
    return deltas


def order_counters(order: Order, zone: ZoneInfo) -> CounterDeltas:
    """Logged-in checkouts feed AOV: revenue (order total) and count on the order's local day."""
    deltas = CounterDeltas()
    if order.logged_in:
        day = local_day(order.created_at, zone)
        deltas.add_day(day, AOV_ORDERS, 1)
        deltas.add_day(day, AOV_REVENUE, order.total)
    return deltas


def account_counters(created_at: str, zone: ZoneInfo) -> CounterDeltas:
    deltas = CounterDeltas()
    deltas.add_day(local_day(created_at, zone), NEW_ACCOUNTS, 1)
    deltas.add_total(TOTAL_ACCOUNTS, 1)
    return deltas
