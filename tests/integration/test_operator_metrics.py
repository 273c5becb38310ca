"""What an operator watches: the EMF metrics the functions print (customer_hub.infra.observability).

CloudWatch turns each embedded-metric-format log line into a metric; the alarms of
template.yaml read them (Smile failure rate). Checked here on the lines the real handlers print.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import pytest

from customer_hub.infra import observability
from tests.integration.test_storefront_redeem import redeem
from tests.support.api import InProcessApi
from tests.support.storefront import Shop


def emf_counts(output: str) -> Counter[tuple[str, str]]:
    """(metric, outcome) → total of the EMF lines in `output`."""
    found: Counter[tuple[str, str]] = Counter()
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        record: dict[str, Any] = json.loads(line)
        (directive,) = record["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == observability.NAMESPACE
        for metric in directive["Metrics"]:
            value = record[metric["Name"]]
            total = sum(value) if isinstance(value, list) else value
            found[(metric["Name"], str(record.get("Outcome", "")))] += total
    return found


def test_redemptions_and_smile_requests_are_counted_by_outcome(
    api: InProcessApi, shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert redeem(api, shop, shop.shopper(balance=1000), 11).status == 201
    poor = redeem(api, shop, shop.shopper(balance=0), 11)
    assert poor.status >= 400
    slug = poor.json["type"].rsplit("/", 1)[-1]
    # Smile answers 503: it did not act (upstream-unavailable). The connection drops once the
    # purchase was sent: it may have acted (redemption-unconfirmed).
    for faults, outcome in (
        ({"fail_next": [503, 503, 503, 503]}, "upstream-unavailable"),
        ({"down": True}, "redemption-unconfirmed"),
    ):
        shop.account.faults.update({**faults, "paths": ["/points_products"]})
        try:
            failed = redeem(api, shop, shop.shopper(balance=1000), 12, key=str(uuid.uuid4()))
        finally:
            shop.account.faults.update({"down": False, "fail_next": [], "paths": []})
        assert failed.status == 503
        assert failed.json["type"].rsplit("/", 1)[-1] == outcome
    counts = emf_counts(capsys.readouterr().out)
    assert counts[("Redemptions", "redeemed")] == 1, counts
    assert counts[("Redemptions", slug)] == 1, counts
    assert counts[("Redemptions", "upstream-unavailable")] == 1, counts
    assert counts[("Redemptions", "redemption-unconfirmed")] == 1, counts
    assert counts[("SmileRequests", "ok")] >= 1, counts
    assert counts[("SmileRequests", "failed")] >= 1, counts


def test_tracing_stays_off_outside_lambda() -> None:
    """No X-Ray SDK import in tests, `hub dev` or `sam local` (Powertools' own rule)."""
    assert not observability.tracing_enabled()
    assert observability.tracer() is None
    with observability.traced("## nothing"):
        pass
