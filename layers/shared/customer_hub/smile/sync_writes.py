"""What one page of a Smile sync writes: customer snapshots, the id → email index, coupons.

`SyncWriter` is the storage side of `customer_hub.smile.sync.Sync` (which walks Smile's pages
and keeps the run's progress): conditional snapshot puts in parallel, the index in batches,
coupons filed under their owner's email (found in this invocation, in the index, or — for an
owner the index does not know yet — read from Smile). It counts its DynamoDB write requests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from customer_hub.infra.store import Table
from customer_hub.loyalty import coupon_sync, snapshots
from customer_hub.merchants.profiles import merchant_pk
from customer_hub.smile.client import SmileClient
from customer_hub.smile.errors import SmileNotFound
from customer_hub.smile.models import Customer, RewardFulfillment

WRITE_THREADS = 8


def index_pk(merchant_id: str) -> str:
    """Smile customer id → email, so fulfillments can be filed under their owner's email."""
    return f"{merchant_pk(merchant_id)}#SMILE"


class SyncWriter:
    """Writes one merchant's synced pages; `writes` counts DynamoDB write requests."""

    def __init__(self, merchant_id: str, table: Table, smile: SmileClient) -> None:
        self.merchant_id = merchant_id
        self.table = table
        self.smile = smile
        self.writes = 0
        self._emails_seen: dict[int, str] = {}
        self._lock = threading.Lock()

    def wrote(self, count: int = 1) -> None:
        with self._lock:
            self.writes += count

    # -------------------------------------------------------------- customers
    def save_customers(self, customers: Iterable[Customer]) -> int:
        """Snapshots (conditional puts, in parallel), then the id → email index in batches."""
        from customer_hub.infra import clock

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
                self.wrote()
        self._write_index(index)
        return len(with_email)

    def _save_snapshot(
        self, customer: Customer, synced_at: str
    ) -> snapshots.CustomerSnapshot | None:
        snapshot = customer.snapshot(synced_at)
        self.wrote()
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
        self.wrote(self.table.batch_put(items))

    # -------------------------------------------------------------- fulfillments
    def save_fulfillments(self, fulfillments: list[RewardFulfillment]) -> int:
        """Each fulfillment as its owner's coupon (new ones put, known ones merged); returns
        how many had an owner with an email."""
        emails = self._emails({f.customer_id for f in fulfillments})
        owned = [(f, emails[f.customer_id]) for f in fulfillments if f.customer_id in emails]
        stored = self.table.batch_get(
            (snapshots.email_pk(self.merchant_id, email), f"COUPON#{f.id}") for f, email in owned
        )
        known = {int(item["fulfillment_id"]) for item in stored}
        with ThreadPoolExecutor(WRITE_THREADS) as pool:
            list(
                pool.map(lambda pair: self._save_coupon(*pair, new=pair[0].id not in known), owned)
            )
        return len(owned)

    def _save_coupon(self, fulfillment: RewardFulfillment, email: str, *, new: bool) -> None:
        coupon_sync.merge_coupon_from_smile(
            self.merchant_id, email, fulfillment.coupon(), probably_new=new
        )
        self.wrote()

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
        self.save_customers(unknown)
        return emails | {cid: self._emails_seen[cid] for cid in missing if cid in self._emails_seen}
