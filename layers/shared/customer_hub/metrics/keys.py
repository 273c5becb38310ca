"""Keys of the metrics table (all scoped to one merchant).

- `MERCHANT#m#DAY` / `YYYY-MM-DD` — day counters (`si_<type>`, `new_accounts`,
  `aov_orders`, `aov_revenue`, `revenue`);
- `MERCHANT#m#TOTALS` / `TOTALS` — `accounts` (since launch), `next_ordinal`;
- `MERCHANT#m#ACTIVE` / `L<level>#<first day ordinal>[#S<shard>]` — roaring bitmap of the
  active ordinals of one shard (`customer_hub.metrics.model.shard_of`; shard 0 has no suffix);
- `MERCHANT#m#ACCOUNT` / `<customer id>` — `ordinal`, `email`, `last_opened_at`, `created_at`,
  and `idle_sk` = `<last_opened_at>#<customer id>` (`-#<customer id>` before the first visit):
  the sort key of the sparse index `IDLE_INDEX`, so the accounts not seen since a cutoff are
  one Query range (`customer_hub.metrics.dashboard.inactive_accounts`);
- `MERCHANT#m#CUST#<customer id>` / `TP#<at>#<event id>`, `ORDER#<at>#<order id>` — timeline;
- `MERCHANT#m#REVENUE` / `<ordered at>#<order id>` — an order's attributed lines;
- `<source item pk>` / `APPLIED` — a record's marker (TTL).
"""

from __future__ import annotations

from customer_hub.merchants.profiles import merchant_pk

TOTALS_SK = "TOTALS"
MARKER_SK = "APPLIED"
IDLE_INDEX = "idle"  # metrics table GSI: pk (the accounts partition) / idle_sk
NEVER_OPENED = "-"  # sorts before any timestamp


def day_pk(merchant_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#DAY"


def totals_pk(merchant_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#TOTALS"


def active_pk(merchant_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#ACTIVE"


def accounts_pk(merchant_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#ACCOUNT"


def customer_pk(merchant_id: str, customer_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#CUST#{customer_id}"


def revenue_pk(merchant_id: str) -> str:
    return f"{merchant_pk(merchant_id)}#REVENUE"


def idle_sk(customer_id: str, last_opened_at: str | None) -> str:
    return f"{last_opened_at or NEVER_OPENED}#{customer_id}"


def customer_of_idle_sk(sort_key: str) -> str:
    return sort_key.partition("#")[2]
