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

import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel

from customer_hub.infra import clock
from customer_hub.infra.config import config
from customer_hub.infra.store import Table
from customer_hub.loyalty import snapshots
from customer_hub.merchants.profiles import PROFILE_SK, merchant_pk
from customer_hub.smile.client import MAX_PAGE_SIZE, SmileClient
from customer_hub.smile.errors import (
    SmileError,
    SmileForbidden,
    SmileUnauthorized,
    SmileUnavailable,
)
from customer_hub.smile.models import Page
from customer_hub.smile.sync_writes import SyncWriter
from customer_hub.smile.sync_writes import index_pk as index_pk  # where it was

SYNC_SK = "SMILE_SYNC"
OVERLAP = timedelta(minutes=2)
STOP_MARGIN_SECONDS = 30.0  # a page (retries included) plus its writes fits in this

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
    """Runs (or resumes) one merchant's sync with one client until done or out of time.

    Smile's requests overlap where its API allows: the program's six reads go out together,
    and the next page (its cursor came with this one) is fetched while this page is written.
    Pages of one list cannot overlap each other: each cursor comes with the page before it."""

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
        self.writer = SyncWriter(merchant_id, self.table, smile)
        self._pool = ThreadPoolExecutor(1)  # the page fetched ahead
        self._ahead: tuple[tuple[Phase, str | None], Future[Page[Any]]] | None = None
        self._may_fetch_ahead = False  # time left for the next page (checked before each page)

    @property
    def writes(self) -> int:
        """DynamoDB write requests (the benchmark reads it)."""
        return self.writer.writes

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
                left = self.remaining_seconds()
                self._may_fetch_ahead = left >= 2 * self.stop_margin
                if left < self.stop_margin:
                    self._stop_fetching()  # before the save: its request is counted
                    self._save()
                    return "continue"
                self._step()
                self._save()
        except SmileError as exc:
            self._stop_fetching()  # before the save: its request is counted
            state.status = "failed"
            state.last_error = _describe(exc)
            state.last_error_at = clock.iso(clock.now())
            self._save()
            return "failed"
        finally:
            self._stop_fetching()
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
                self._fetch_ahead("customers", None)
            case "customers":
                page = self._page("customers")
                self.state.customers_synced += self.writer.save_customers(page.items)
                self._next(page, "fulfillments")
            case "fulfillments":
                page = self._page("fulfillments")
                self.state.fulfillments_synced += self.writer.save_fulfillments(page.items)
                self._next(page, None)

    def _next(self, page: Page[Any], then: Phase | None) -> None:
        self.state.pages += 1
        if page.next_cursor is None:
            self.state.phase, self.state.cursor = then, None
        else:
            self.state.cursor = page.next_cursor

    def _save(self) -> None:
        used = self.smile.requests_made - self._requests_before
        self._requests_before = self.smile.requests_made
        self.state.requests_made += used
        save_state(self.merchant_id, self.state)
        self.writer.wrote()

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
        self.writer.wrote()

    # -------------------------------------------------------------- Smile's pages
    def _fetch(self, phase: Phase, cursor: str | None) -> Page[Any]:
        fetch = self.smile.customers_page if phase == "customers" else self.smile.fulfillments_page
        return fetch(cursor=cursor, updated_at_min=self.state.since, limit=self.page_size)

    def _page(self, phase: Phase) -> Page[Any]:
        """The page at the saved cursor (fetched ahead when it could be); the one after it
        starts on its way before this one is written."""
        cursor = self.state.cursor
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == (phase, cursor):
            page = ahead[1].result()
        else:
            page = self._fetch(phase, cursor)
        if page.next_cursor is not None:
            self._fetch_ahead(phase, page.next_cursor)
        elif phase == "customers":
            self._fetch_ahead("fulfillments", None)
        return page

    def _fetch_ahead(self, phase: Phase, cursor: str | None) -> None:
        """Start fetching a page while the current one is written (not when the invocation
        may stop before it: a fetched page nobody writes is a request wasted; an invocation
        killed outright wastes the one on its way, and the next fetches it again)."""
        if self._may_fetch_ahead:
            self._ahead = ((phase, cursor), self._pool.submit(self._fetch, phase, cursor))

    def _stop_fetching(self) -> None:
        """The invocation ends: a page on its way is awaited (its request counted), not used."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead[1].exception()  # waits; its failure, if any, no longer matters

    # -------------------------------------------------------------- program
    def _sync_program(self) -> None:
        smile = self.smile
        with ThreadPoolExecutor(6) as pool:  # independent reads: all on their way at once
            label = pool.submit(smile.get_points_settings)
            products = pool.submit(smile.list_points_products, page_size=self.page_size)
            rules = pool.submit(smile.list_earning_rules)
            tiers = pool.submit(smile.list_vip_tiers)
            referral = pool.submit(smile.get_referral_settings)
            vip = pool.submit(smile.get_vip_settings)
            program = snapshots.Program(
                points_label=label.result().points_label,
                points_products=products.result(),
                earning_rules=rules.result(),
                vip_tiers=tiers.result(),
                referral_settings=referral.result(),
                vip_settings=vip.result(),
                synced_at=clock.iso(clock.now()),
            )
        snapshots.save_program(self.merchant_id, program)
        self.writer.wrote()


def _describe(exc: SmileError) -> str:
    """A last_error a merchant can act on (never the key: errors carry redacted bodies)."""
    if isinstance(exc, SmileUnauthorized):
        return "Smile.io rejected the API key (401): reconnect with a valid key."
    if isinstance(exc, SmileForbidden):
        return "The Smile.io API key lacks a permission this sync needs (403)."
    if isinstance(exc, SmileUnavailable):
        return f"Smile.io was unavailable: {exc}"
    return f"Smile.io refused a request: {exc}"
