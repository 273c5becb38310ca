"""API key rotation's rules (SPEC: credentials rotate without downtime; API.md: the previous key
works 10 more minutes) on the in-memory key store (milliseconds): only the current key rotates,
the previous one keeps working until `previous_valid_until` and not after, a race gets a 409.
The fake keeps DynamoDB's conditions (`tests/integration/test_key_store.py`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from customer_hub.identity import hash_api_key, new_api_key
from customer_hub.infra import clock
from customer_hub.merchants import credentials, key_store
from customer_hub.merchants.api_keys import api_key_grant, merchant_id_for_api_key
from customer_hub.merchants.key_store import MemoryKeys, Profile
from customer_hub.problems import Conflict, Forbidden, NotFound

M = "m_0123456789abcdef"
NOW = datetime(2026, 11, 23, 12, 0, 0, 250_000, tzinfo=UTC)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> MemoryKeys:
    store = MemoryKeys()
    monkeypatch.setattr(key_store, "store", store)
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return store


def _merchant(fake: MemoryKeys, *, named: bool = True) -> str:
    key = new_api_key()
    fake.add(M, hash_api_key(key), named=named)
    return key


def _works(key: str, at: datetime) -> bool:
    return merchant_id_for_api_key(key, at.timestamp()) == M


def test_the_previous_key_works_ten_more_minutes_and_not_after(fake: MemoryKeys) -> None:
    old = _merchant(fake)

    rotated = credentials.rotate(M, "api_key", old)

    new = str(rotated["api_key"])
    assert rotated == {
        "api_key": new,
        "customer_token_secret": None,
        "previous_valid_until": "2026-11-23T12:10:00Z",  # whole seconds
    }
    end = datetime(2026, 11, 23, 12, 10, tzinfo=UTC)
    assert _works(old, end - timedelta(seconds=1)) and not _works(old, end)
    assert _works(new, NOW) and _works(new, end + timedelta(days=30))
    assert api_key_grant(new) == (M, None)
    # DynamoDB deletes the ended key's item a day after it stopped working.
    assert fake.keys[hash_api_key(old)]["expires_at"] == int(end.timestamp()) + 86_400


def test_only_the_current_key_rotates(fake: MemoryKeys) -> None:
    old = _merchant(fake)
    new = str(credentials.rotate(M, "api_key", old)["api_key"])

    for presented in (old, new_api_key(), None):  # the previous key, an unknown one, none
        with pytest.raises(Forbidden):
            credentials.rotate(M, "api_key", presented)
    assert fake.profiles[M] == Profile(hash_api_key(new))
    newer = credentials.rotate(M, "api_key", new)["api_key"]
    assert newer and _works(str(newer), NOW)


def test_each_previous_key_keeps_its_own_end(
    fake: MemoryKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _merchant(fake)
    second = str(credentials.rotate(M, "api_key", first)["api_key"])
    later = NOW + timedelta(minutes=4)
    monkeypatch.setattr(clock, "now", lambda: later)
    credentials.rotate(M, "api_key", second)

    assert not _works(first, NOW + timedelta(minutes=10))
    assert _works(second, NOW + timedelta(minutes=13)) and not _works(
        second, later + timedelta(minutes=10)
    )


def test_an_unknown_merchant_is_404(fake: MemoryKeys) -> None:
    with pytest.raises(NotFound):
        credentials.rotate(M, "api_key", new_api_key())


def test_a_merchant_whose_profile_names_no_key_rotates_with_a_current_key(fake: MemoryKeys) -> None:
    old = _merchant(fake, named=False)
    new = str(credentials.rotate(M, "api_key", old)["api_key"])
    assert fake.profiles[M] == Profile(hash_api_key(new))
    # The ended key, presented again while the profile named none, is refused by the write.
    fake.profiles[M] = Profile(None)
    with pytest.raises(Conflict):
        credentials.rotate(M, "api_key", old)


def test_two_rotations_at_once_demote_the_key_once(
    fake: MemoryKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _merchant(fake)
    seen = fake.profile(M)  # both requests read the profile before either wrote
    first = str(credentials.rotate(M, "api_key", old)["api_key"])
    monkeypatch.setattr(fake, "profile", lambda _merchant_id: seen)

    with pytest.raises(Conflict):
        credentials.rotate(M, "api_key", old)
    assert fake.profiles[M] == Profile(hash_api_key(first))
    assert len(fake.keys) == 2  # the old key (ending) and the first rotation's
