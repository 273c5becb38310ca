"""OPTIONS /v1/shops/{merchant_id}/hub/{proxy+} — CORS preflight for the merchant's storefront
origins only (settings `storefront_origins`, default `https://<shop_domain>`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from customer_hub.edge.request_checks import is_merchant_id
from customer_hub.edge.storefront import merchant_profile, preflight_headers
from customer_hub.infra.config import checked_at_cold_start
from customer_hub.problems import PROBLEM_CONTENT_TYPE, Forbidden, NotFound

logger = Logger()


@logger.inject_lambda_context
@checked_at_cold_start()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    merchant_id = str((event.get("pathParameters") or {}).get("merchant_id") or "")
    if not is_merchant_id(merchant_id) or merchant_profile(merchant_id) is None:
        problem: NotFound | Forbidden = NotFound("No such shop.")
    else:
        headers = preflight_headers(event)
        if headers is not None:
            return {"statusCode": 204, "headers": headers, "body": ""}
        problem = Forbidden("This origin may not call this shop's hub.")
    return {
        "statusCode": problem.status,
        "headers": {"Content-Type": PROBLEM_CONTENT_TYPE, "Vary": "Origin"},
        "body": problem.to_json(),
    }
