"""Roll-up stage: accounts and ordinals.

New accounts are created-or-kept (`if_not_exists`, so a redelivery changes nothing). Each
visitor of the hub gets an ordinal (its bit in the active-account bitmaps) the first time, and
its latest visit is raised, never lowered; the stage returns the ordinals active per local day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from customer_hub.metrics.keys import TOTALS_SK, accounts_pk, idle_sk, totals_pk
from customer_hub.metrics.model import local_day
from customer_hub.metrics.store import (
    TRANSACTION_LIMIT,
    Add,
    Cancelled,
    ConditionFailed,
    MetricsStore,
    Update,
    absent,
    absent_or_below,
    equals,
)
from customer_hub.metrics.stream import MerchantBatch


# -------------------------------------------------------------------- created accounts
def plan_created_accounts(batch: MerchantBatch) -> list[Update]:
    """One create-or-keep update per new account: the first created_at and email win."""
    first: dict[str, dict[str, Any]] = {}
    for change in batch.accounts:
        item = change.item
        customer = str(item["customer_id"])
        merged = first.setdefault(customer, {"created_at": item["created_at"]})
        if item.get("email") and "email" not in merged:
            merged["email"] = item["email"]
    return [
        Update(
            accounts_pk(batch.merchant_id),
            customer,
            values={"customer_id": customer},
            defaults={"created_at": account["created_at"], "idle_sk": idle_sk(customer, None)}
            | ({"email": account["email"]} if account.get("email") else {}),
        )
        for customer, account in first.items()
    ]


def create_accounts(store: MetricsStore, batch: MerchantBatch) -> None:
    """One transaction per 100 accounts; a cancelled one is redone item by item."""
    updates = plan_created_accounts(batch)
    for start in range(0, len(updates), TRANSACTION_LIMIT):
        chunk = updates[start : start + TRANSACTION_LIMIT]
        try:
            store.transact(chunk)
        except Cancelled:
            for update in chunk:
                store.write(update)


# -------------------------------------------------------------------- visits
@dataclass(frozen=True)
class Visits:
    """The batch's hub openings: each visitor's latest (time, email) and local days."""

    latest: dict[str, tuple[str, str | None]]
    days: dict[str, set[date]]


def visits_of(batch: MerchantBatch) -> Visits:
    latest: dict[str, tuple[str, str | None]] = {}
    days: dict[str, set[date]] = defaultdict(set)
    for change in batch.events:
        item = change.item
        if item["type"] != "hub_opened" or not item.get("customer_id"):
            continue
        customer, at = str(item["customer_id"]), str(item["occurred_at"])
        days[customer].add(local_day(at, batch.zone))
        if customer not in latest or latest[customer][0] < at:
            latest[customer] = (at, item.get("email"))
    return Visits(latest, dict(days))


def plan_visit(
    merchant_id: str,
    customer: str,
    visit: tuple[str, str | None],
    ordinal: int,
    *,
    known: bool,
    later: bool,
) -> Update:
    """The visit as one guarded update: it applies only if the account still has the ordinal
    read (or still none) and, when the visit is later, still an earlier visit (or none)."""
    at, email = visit
    values: dict[str, Any] = {"customer_id": customer, "ordinal": ordinal}
    guard = [equals("ordinal", ordinal) if known else absent("ordinal")]
    if later:
        values |= {"last_opened_at": at, "idle_sk": idle_sk(customer, at)}
        guard.append(absent_or_below("last_opened_at", at))
    if email:
        values["email"] = email
    return Update(accounts_pk(merchant_id), customer, values, guard=tuple(guard))


def plan_visits(
    merchant_id: str, visits: Visits, stored: dict[str, dict[str, Any]], spare: dict[str, int]
) -> tuple[dict[str, int], list[tuple[str, int, Update]]]:
    """→ the ordinals of visitors with nothing to write (their account already has the visit),
    and (customer, ordinal, update) for the others; `spare` holds fresh ordinals for accounts
    without one."""
    ordinals: dict[str, int] = {}
    updates: list[tuple[str, int, Update]] = []
    for customer, (at, email) in visits.latest.items():
        current = stored.get(customer, {})
        known = "ordinal" in current
        later = str(current.get("last_opened_at", "")) < at
        if known and not later:
            ordinals[customer] = int(current["ordinal"])
            continue
        ordinal = int(current["ordinal"]) if known else spare[customer]
        visit = (at, email)
        update = plan_visit(merchant_id, customer, visit, ordinal, known=known, later=later)
        updates.append((customer, ordinal, update))
    return ordinals, updates


def reserve_ordinals(store: MetricsStore, merchant_id: str, count: int) -> int:
    """The first of `count` fresh ordinals (one write; none when count is 0)."""
    if not count:
        return 0
    totals = store.write(Add(totals_pk(merchant_id), TOTALS_SK, {"next_ordinal": count}))
    return int(totals["next_ordinal"]) - count


def record_visit(
    store: MetricsStore, merchant_id: str, customer: str, visit: tuple[str, str | None], spare: int
) -> int:
    """Record a visit alone (never moving last_opened_at back); → the account's ordinal."""
    at, email = visit
    pk = accounts_pk(merchant_id)
    values: dict[str, Any] = {"customer_id": customer} | ({"email": email} if email else {})
    defaults = {"ordinal": spare}
    try:
        seen = {"last_opened_at": at, "idle_sk": idle_sk(customer, at)}
        guard = (absent_or_below("last_opened_at", at),)
        account = store.write(Update(pk, customer, values | seen, defaults, guard))
    except ConditionFailed:
        # A later visit is already stored; only make sure the account has its ordinal.
        account = store.write(Update(pk, customer, values, defaults))
    ordinal = int(account["ordinal"])
    if ordinal < 0:
        raise RuntimeError(f"account {customer} has no ordinal")
    return ordinal


def open_accounts(store: MetricsStore, batch: MerchantBatch) -> dict[date, set[int]]:
    """Each visitor's ordinal and latest visit stored; → the ordinals active per local day.

    One read of the visitors' accounts, one write reserving fresh ordinals, one transaction per
    100 visits, each guarded by the state read; when anything moved in between (a concurrent
    batch), that chunk is redone visit by visit."""
    visits = visits_of(batch)
    if not visits.latest:
        return {}
    pk = accounts_pk(batch.merchant_id)
    found = store.get_many([(pk, c) for c in visits.latest], consistent=True)
    stored = {sk: item for (_pk, sk), item in found.items()}
    missing = [c for c in visits.latest if "ordinal" not in stored.get(c, {})]
    first = reserve_ordinals(store, batch.merchant_id, len(missing))
    spare = dict(zip(missing, range(first, first + len(missing)), strict=True))
    ordinals, updates = plan_visits(batch.merchant_id, visits, stored, spare)
    for start in range(0, len(updates), TRANSACTION_LIMIT):
        chunk = updates[start : start + TRANSACTION_LIMIT]
        try:
            store.transact([update for _c, _o, update in chunk])
        except Cancelled:
            for customer, _ordinal, _update in chunk:
                visit = visits.latest[customer]
                spared = spare.get(customer, -1)
                ordinals[customer] = record_visit(store, batch.merchant_id, customer, visit, spared)
        else:
            ordinals.update({customer: ordinal for customer, ordinal, _u in chunk})
    active: dict[date, set[int]] = defaultdict(set)
    for customer, days in visits.days.items():
        for day in days:
            active[day].add(ordinals[customer])
    return active
