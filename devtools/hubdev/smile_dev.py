"""`hub dev` and Smile.io: start the stand-in (unless SMILE_API_BASE_URL is set), connect the
demo merchant to a demo Smile account and sync it before the ready line."""

from __future__ import annotations

import logging
import os
from typing import Any

from hubdev import smile_demo
from hubdev.smile_standin import SmileStandIn
from hubdev.stack import LocalStack

log = logging.getLogger("hubdev.smile")

DEMO_SMILE_KEY = "sk_demo_customer_hub_standin"  # a key of the local stand-in only
DEMO_CUSTOMERS = 300


def start_standin(host: str = "127.0.0.1") -> SmileStandIn | None:
    """The stand-in on its own free port, named by SMILE_API_BASE_URL; None when already set."""
    if os.environ.get("SMILE_API_BASE_URL"):
        return None
    standin = SmileStandIn(host).start()
    os.environ["SMILE_API_BASE_URL"] = standin.url
    log.info("smile stand-in on %s", standin.url)
    return standin


def connect_demo(
    stack: LocalStack, merchant_id: str, standin: SmileStandIn | None
) -> dict[str, Any]:
    """Give the demo merchant a Smile account on the stand-in, connect it and sync it now."""
    if standin is None:
        return {"connected": False}
    from customer_hub.smile import connection, jobs
    from customer_hub.smile.sync import load_state

    standin.add_account(DEMO_SMILE_KEY, name="demo", customers=DEMO_CUSTOMERS)
    connection.connect(merchant_id, DEMO_SMILE_KEY)
    jobs.enqueue(merchant_id, "connect")
    stack.drain()
    state = load_state(merchant_id)
    return {
        "connected": True,
        "sync_status": state.status,
        "customers_synced": state.customers_synced,
        "shoppers": smile_demo.demo_shoppers(),
    }
