"""One merchant's Smile.io sync: program, then changed customers, then changed fulfillments.

A run is a sequence of pages. After every page the progress (phase, cursor, counters) is saved
in `MERCHANT#<m>` / `SMILE_SYNC`, so a run that is stopped (time budget) or killed resumes from
the last saved cursor with the same `updated_at_min`. When a run completes, the next one asks
only for what changed since this one started, minus `OVERLAP` for clock skew between Smile and
us. Snapshot writes are idempotent and never move an item backwards, so the overlap and a
re-read page cost requests, never correctness.

Smile sorts lists by id descending and the cursor is positional: customers created during a run
sit before the cursor and are picked up by the next run (their `updated_at` is after its start).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel

from customer_hub.infra import clock
from customer_hub.infra.config import config
from customer_hub.infra.store import Table
from customer_hub.loyalty import coupon_sync, snapshots
from customer_hub.merchants.profiles import PROFILE_SK, merchant_pk
from customer_hub.smile.client import MAX_PAGE_SIZE, SmileClient
from customer_hub.smile.errors import (
    SmileError,
    SmileForbidden,
    SmileNotFound,
    SmileUnauthorized,
    SmileUnavailable,
)
from customer_hub.smile.models import Customer, RewardFulfillment

SYNC_SK = "SMILE_SYNC"
OVERLAP = timedelta(minutes=2)
STOP_MARGIN_SECONDS = 30.0  # a page (retries included) plus its writes fits in this
WRITE_THREADS = 8

Phase = Literal["program", "customers", "fulfillments"]
Outcome = Literal["done", "continue", "failed"]


class SyncState(BaseModel):
    """The merchant's sync progress and its last results (GET /v1/admin/smile/sync)."""

    status: Literal["idle", "running", "failed"] = "idle"
    key_id: str | None = None  # which Smile key (account) the progress belongs to
    run_id: str | None = None
    run_started_at: str | None = None
    since: str | None = None  # updated_at_min of the current run (None: everything)
    phase: Phase | None = None
    cursor: str | None = None
    watermark: str | None = None  # start of the last complete run
    last_success_at: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    customers_synced: int = 0
    fulfillments_synced: int = 0
    pages: int = 0
    requests_made: int = 0
    invocations: int = 0

    def report(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "last_success_at": self.last_success_at,
            "last_error": self.last_error,
            "customers_synced": self.customers_synced,
            "requests_made": self.requests_made,
        }


def _data() -> Table:
    return Table(config().data_table)


def index_pk(merchant_id: str) -> str:
    """Smile customer id → email, so fulfillments can be filed under their owner's email."""
    return f"{merchant_pk(merchant_id)}#SMILE"


def load_state(merchant_id: str) -> SyncState:
    item = _data().get(merchant_pk(merchant_id), SYNC_SK, consistent=True)
    if not item:
        return SyncState()
    return SyncState.model_validate({k: v for k, v in item.items() if k not in ("pk", "sk")})


def save_state(merchant_id: str, state: SyncState) -> None:
    _data().put({"pk": merchant_pk(merchant_id), "sk": SYNC_SK, **state.model_dump()})


def reset_state(merchant_id: str) -> None:
    """A new connection (perhaps another Smile account): the next run reads everything."""
    save_state(merchant_id, SyncState())


def stop_run(merchant_id: str) -> None:
    """Disconnected: forget the unfinished run, keep the last results."""
    state = load_state(merchant_id)
    state.status, state.phase, state.cursor, state.run_id = "idle", None, None, None
    save_state(merchant_id, state)


class Sync:
    """Runs (or resumes) one merchant's sync with one client until done or out of time."""

    def __init__(
        self,
        merchant_id: str,
        smile: SmileClient,
        *,
        remaining_seconds: Callable[[], float] = lambda: float("inf"),
        stop_margin: float = STOP_MARGIN_SECONDS,
        page_size: int = MAX_PAGE_SIZE,
        overlap: timedelta = OVERLAP,
    ) -> None:
        self.merchant_id = merchant_id
        self.smile = smile
        self.remaining_seconds = remaining_seconds
        self.stop_margin = stop_margin
        self.page_size = page_size
        self.overlap = overlap
        self.table = _data()
        self.state = load_state(merchant_id)
        self._requests_before = smile.requests_made
        self.writes = 0  # DynamoDB write requests (the benchmark reads it)
        self._emails_seen: dict[int, str] = {}
        self._writes_lock = threading.Lock()

    def _wrote(self, count: int = 1) -> None:
        with self._writes_lock:
            self.writes += count

    # -------------------------------------------------------------- the run
    def run(self) -> Outcome:
        state = self.state
        if state.key_id != self.smile.key_id:  # another key: its cursors mean nothing here
            state.phase, state.watermark, state.key_id = None, None, self.smile.key_id
        if state.phase is None:
            self._start()
        state.status = "running"
        state.invocations += 1
        try:
            while state.phase is not None:
                if self.remaining_seconds() < self.stop_margin:
                    self._save()
                    return "continue"
                self._step()
                self._save()
        except SmileError as exc:
            state.status = "failed"
            state.last_error = _describe(exc)
            state.last_error_at = clock.iso(clock.now())
            self._save()
            return "failed"
        self._finish()
        return "done"

    def _start(self) -> None:
        state = self.state
        started = clock.now()
        state.run_id = uuid.uuid4().hex
        state.run_started_at = clock.iso(started)
        state.since = (
            clock.iso(clock.parse_iso(state.watermark) - self.overlap) if state.watermark else None
        )
        state.phase, state.cursor = "program", None
        state.customers_synced = state.fulfillments_synced = state.pages = 0
        state.requests_made = state.invocations = 0

    def _step(self) -> None:
        match self.state.phase:
            case "program":
                self._sync_program()
                self.state.phase, self.state.cursor = "customers", None
            case "customers":
                self._sync_customer_page()
            case "fulfillments":
                self._sync_fulfillment_page()

    def _save(self) -> None:
        used = self.smile.requests_made - self._requests_before
        self._requests_before = self.smile.requests_made
        self.state.requests_made += used
        save_state(self.merchant_id, self.state)
        self._wrote()

    def _finish(self) -> None:
        state = self.state
        now = clock.iso(clock.now())
        state.status, state.last_error, state.last_error_at = "idle", None, None
        state.watermark, state.last_success_at = state.run_started_at, now
        state.cursor = None
        self._save()
        self.table.update(
            merchant_pk(self.merchant_id),
            PROFILE_SK,
            "SET last_sync_at = :now",
            values={":now": now},
            condition="attribute_exists(pk)",
        )
        self._wrote()

    # -------------------------------------------------------------- program
    def _sync_program(self) -> None:
        smile = self.smile
        program = snapshots.Program(
            points_label=smile.get_points_settings().points_label,
            points_products=smile.list_points_products(page_size=self.page_size),
            earning_rules=smile.list_earning_rules(),
            vip_tiers=smile.list_vip_tiers(),
            referral_settings=smile.get_referral_settings(),
            vip_settings=smile.get_vip_settings(),
            synced_at=clock.iso(clock.now()),
        )
        snapshots.save_program(self.merchant_id, program)
        self._wrote()

    # -------------------------------------------------------------- customers
    def _sync_customer_page(self) -> None:
        page = self.smile.customers_page(
            cursor=self.state.cursor, updated_at_min=self.state.since, limit=self.page_size
        )
        written = self._save_customers(page.items)
        self.state.customers_synced += written
        self.state.pages += 1
        if page.next_cursor is None:
            self.state.phase, self.state.cursor = "fulfillments", None
        else:
            self.state.cursor = page.next_cursor

    def _save_customers(self, customers: Iterable[Customer]) -> int:
        """Snapshots (conditional puts, in parallel), then the id → email index in batches."""
        synced_at = clock.iso(clock.now())
        with_email = [c for c in customers if c.email]
        known = self._indexed_emails({c.id for c in with_email})
        with ThreadPoolExecutor(WRITE_THREADS) as pool:
            written = list(pool.map(lambda c: self._save_snapshot(c, synced_at), with_email))
        index: dict[int, str] = {}
        for customer, snapshot in zip(with_email, written, strict=True):
            if snapshot is None:
                continue  # what we hold is newer
            previous = known.get(customer.id)
            if previous != snapshot.email:
                index[customer.id] = snapshot.email
            if previous and previous != snapshot.email:  # the customer changed their email
                self.table.delete(
                    snapshots.email_pk(self.merchant_id, previous), f"CUSTOMER#{customer.id}"
                )
                self._wrote()
        self._write_index(index)
        return len(with_email)

    def _save_snapshot(
        self, customer: Customer, synced_at: str
    ) -> snapshots.CustomerSnapshot | None:
        snapshot = customer.snapshot(synced_at)
        self._wrote()
        self._emails_seen[customer.id] = snapshot.email
        return snapshot if snapshots.save_customer(self.merchant_id, snapshot) else None

    def _indexed_emails(self, customer_ids: set[int]) -> dict[int, str]:
        if not customer_ids:
            return {}
        pk = index_pk(self.merchant_id)
        found = self.table.batch_get((pk, f"CUSTOMER#{cid}") for cid in customer_ids)
        return {int(item["sk"].removeprefix("CUSTOMER#")): str(item["email"]) for item in found}

    def _write_index(self, emails: dict[int, str]) -> None:
        """BatchWriteItem, 25 a request. Unconditional: runs of one merchant never overlap."""
        pk = index_pk(self.merchant_id)
        items = [
            {"pk": pk, "sk": f"CUSTOMER#{cid}", "email": email} for cid, email in emails.items()
        ]
        self._wrote(self.table.batch_put(items))

    # -------------------------------------------------------------- fulfillments
    def _sync_fulfillment_page(self) -> None:
        page = self.smile.fulfillments_page(
            cursor=self.state.cursor, updated_at_min=self.state.since, limit=self.page_size
        )
        emails = self._emails({f.customer_id for f in page.items})
        owned = [(f, emails[f.customer_id]) for f in page.items if f.customer_id in emails]
        stored = self.table.batch_get(
            (snapshots.email_pk(self.merchant_id, email), f"COUPON#{f.id}") for f, email in owned
        )
        known = {int(item["fulfillment_id"]) for item in stored}
        with ThreadPoolExecutor(WRITE_THREADS) as pool:
            list(
                pool.map(lambda pair: self._save_coupon(*pair, new=pair[0].id not in known), owned)
            )
        self.state.fulfillments_synced += len(owned)
        self.state.pages += 1
        if page.next_cursor is None:
            self.state.phase, self.state.cursor = None, None
        else:
            self.state.cursor = page.next_cursor

    def _save_coupon(self, fulfillment: RewardFulfillment, email: str, *, new: bool) -> None:
        coupon_sync.merge_coupon_from_smile(
            self.merchant_id, email, fulfillment.coupon(), probably_new=new
        )
        self._wrote()

    def _emails(self, customer_ids: set[int]) -> dict[int, str]:
        """Owner emails: seen in this invocation, else the index, else read from Smile."""
        emails = {cid: self._emails_seen[cid] for cid in customer_ids if cid in self._emails_seen}
        emails |= self._indexed_emails(customer_ids - emails.keys())
        missing = sorted(customer_ids - emails.keys())
        unknown: list[Customer] = []
        for customer_id in missing:
            try:
                unknown.append(self.smile.get_customer(customer_id))
            except SmileNotFound:
                continue
        self._save_customers(unknown)
        return emails | {cid: self._emails_seen[cid] for cid in missing if cid in self._emails_seen}


def _describe(exc: SmileError) -> str:
    """A last_error a merchant can act on (never the key: errors carry redacted bodies)."""
    if isinstance(exc, SmileUnauthorized):
        return "Smile.io rejected the API key (401): reconnect with a valid key."
    if isinstance(exc, SmileForbidden):
        return "The Smile.io API key lacks a permission this sync needs (403)."
    if isinstance(exc, SmileUnavailable):
        return f"Smile.io was unavailable: {exc}"
    return f"Smile.io refused a request: {exc}"
