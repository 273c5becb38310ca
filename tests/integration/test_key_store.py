"""The API key store contract, run on the DynamoDB adapter (the local stack's moto) and on the
in-memory fake the unit tests use (`tests/unit/test_key_rotation.py`): a replacement is all or
nothing and refused exactly when DynamoDB's conditions refuse it."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from customer_hub.merchants.key_store import (
    API_KEY_HASH,
    API_KEY_SK,
    PROFILE_SK,
    DynamoKeys,
    Grant,
    KeyStore,
    MemoryKeys,
    Profile,
    key_pk,
)

Adding = tuple[KeyStore, Callable[..., None]]  # the store, and how creation puts a merchant in


def _add_to_dynamodb(merchant_id: str, key_hash: str, *, named: bool = True) -> None:
    table = DynamoKeys().table
    profile = {"pk": f"MERCHANT#{merchant_id}", "sk": PROFILE_SK, "merchant_id": merchant_id}
    if named:
        profile[API_KEY_HASH] = key_hash
    table.put(profile)
    table.put({"pk": key_pk(key_hash), "sk": API_KEY_SK, "merchant_id": merchant_id})


@pytest.fixture(params=["dynamodb", "memory"])
def keys(request: pytest.FixtureRequest) -> Adding:
    if request.param == "dynamodb":
        request.getfixturevalue("stack")
        return DynamoKeys(), _add_to_dynamodb
    fake = MemoryKeys()
    return fake, fake.add


def _ids() -> tuple[str, str, str]:
    return f"m_{uuid.uuid4().hex[:16]}", uuid.uuid4().hex * 2, uuid.uuid4().hex * 2


def test_a_key_is_replaced_all_at_once(keys: Adding) -> None:
    store, add = keys
    merchant_id, old, new = _ids()
    add(merchant_id, old)
    assert store.grant(old) == Grant(merchant_id, None)
    assert store.profile(merchant_id) == Profile(old)

    assert store.replace(merchant_id, old, new, until=1_900_000_000, ttl=1_900_086_400)

    assert store.grant(old) == Grant(merchant_id, 1_900_000_000)
    assert store.grant(new) == Grant(merchant_id, None)
    assert store.profile(merchant_id) == Profile(new)
    assert store.grant(uuid.uuid4().hex) is None
    assert store.profile("m_0000000000000000") is None


def test_an_ended_or_foreign_key_is_not_replaced(keys: Adding) -> None:
    store, add = keys
    merchant_id, old, new = _ids()
    other, other_key, _ = _ids()
    add(merchant_id, old)
    add(other, other_key)
    store.replace(merchant_id, old, new, until=1_900_000_000, ttl=1_900_086_400)

    again = uuid.uuid4().hex
    assert not store.replace(merchant_id, old, again, until=1_900_000_100, ttl=1)  # ended
    assert not store.replace(merchant_id, other_key, again, until=1_900_000_100, ttl=1)
    assert not store.replace(merchant_id, new, other_key, until=1_900_000_100, ttl=1)  # exists
    assert store.grant(again) is None  # nothing of a refused replacement was written
    assert store.grant(old) == Grant(merchant_id, 1_900_000_000)
    assert store.grant(other_key) == Grant(other, None)
    assert store.profile(merchant_id) == Profile(new)


def test_the_profile_must_still_name_the_old_key(keys: Adding) -> None:
    store, add = keys
    merchant_id, first, second = _ids()
    add(merchant_id, first)
    add(merchant_id, second)  # the profile now names `second`

    assert not store.replace(merchant_id, first, uuid.uuid4().hex, until=1_900_000_000, ttl=1)
    assert store.grant(first) == Grant(merchant_id, None)


def test_a_profile_that_names_no_key_takes_the_replacement(
    keys: Adding,
) -> None:
    store, add = keys
    merchant_id, old, new = _ids()
    add(merchant_id, old, named=False)
    assert store.profile(merchant_id) == Profile(None)

    assert store.replace(merchant_id, old, new, until=1_900_000_000, ttl=1_900_086_400)
    assert store.profile(merchant_id) == Profile(new)
