"""Warm containers' per-key caches stay bounded under flooding: 100,000 random API keys through
the authorizer's cache, 100,000 random merchant ids through the storefront's profile and
program caches, 100,000 secret names through the secrets cache. Memory (tracemalloc) is
measured once the caches are full and again after the whole flood: it stays flat.

The lookups behind the caches (DynamoDB, Secrets Manager) are replaced by answers in memory,
so the flood measures the caches, not the emulator.
"""

from __future__ import annotations

import importlib.util
import json
import secrets as random_tokens
import tracemalloc
from collections import Counter
from types import ModuleType
from typing import Any

import pytest

from customer_hub.edge import storefront
from customer_hub.infra import secrets
from customer_hub.loyalty import snapshots
from customer_hub.merchants.profiles import Merchant
from hubdev.template import ROOT

FLOOD = 100_000
# Growth allowed between "caches full" and "after the flood": allocator noise, not entries
# (an unbounded cache grows by tens of MB over the same flood).
FLAT_BYTES = 512 * 1024


def _authorizer() -> ModuleType:
    path = ROOT / "functions" / "merchant_authorizer" / "app.py"
    spec = importlib.util.spec_from_file_location("authorizer_under_flood", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Secrets:
    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        return {"SecretString": json.dumps({"api_key": "sk_" + SecretId[-12:]})}


MERCHANT = Merchant(
    merchant_id="m_0123456789abcdef",
    name="Flood",
    shop_domain="flood.myshopify.com",
    timezone="UTC",
    currency="USD",
    created_at="2026-01-01T00:00:00Z",
)


def _flood(count: int, authorizer: ModuleType) -> None:
    for n in range(count):
        authorizer._lookup("chk_" + random_tokens.token_urlsafe(32))
        merchant_id = "m_" + random_tokens.token_hex(8)
        storefront.merchant_profile(merchant_id)
        snapshots.load_program(merchant_id)
        secrets.read_secret(f"customer-hub/flood/merchants/{merchant_id}/smile")
        if n % 1000 == 0:
            storefront.merchant_profile(MERCHANT.merchant_id)  # a real shop stays served


def test_caches_stay_flat_under_100000_random_keys_and_ids(
    monkeypatch: pytest.MonkeyPatch, figures: Counter[str]
) -> None:
    authorizer = _authorizer()
    # Every other key is "found" (cached 5 minutes), the rest unknown (cached 10 s).
    found = iter(range(10**9))
    monkeypatch.setattr(
        authorizer,
        "api_key_grant",
        lambda key: ("m_0123456789abcdef", None) if next(found) % 2 else None,
    )
    monkeypatch.setattr(
        storefront,
        "find_merchant",
        lambda m: MERCHANT if m == MERCHANT.merchant_id or m.endswith("0") else None,
    )

    class _NoPrograms:
        def get(self, *_: Any, **__: Any) -> None:
            return None

    monkeypatch.setattr(snapshots, "_data", lambda: _NoPrograms())
    monkeypatch.setattr(secrets, "client", lambda service: _Secrets())
    storefront.forget_profiles()
    secrets.forget_secrets()

    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        fill = max(
            authorizer.CACHE_ENTRIES,
            storefront.PROFILE_CACHE_ENTRIES,
            snapshots.PROGRAM_CACHE_ENTRIES,
            secrets.CACHE_ENTRIES,
        )
        _flood(2 * fill, authorizer)  # every cache full
        full, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        _flood(FLOOD, authorizer)
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        storefront.forget_profiles()
        secrets.forget_secrets()

    assert len(authorizer._cache) <= authorizer.CACHE_ENTRIES
    assert len(storefront._profiles) <= storefront.PROFILE_CACHE_ENTRIES
    assert after - full < FLAT_BYTES, (before, full, after, peak)
    assert peak - full < FLAT_BYTES * 2, (before, full, after, peak)
    kib = 1024
    figures["cache flood: random keys and ids fed"] += FLOOD
    figures["cache flood: memory before (KiB, tracemalloc)"] += before // kib
    figures["cache flood: memory with caches full (KiB)"] += full // kib
    figures["cache flood: memory after 100,000 more (KiB)"] += after // kib
    figures["cache flood: peak during the flood (KiB)"] += peak // kib
