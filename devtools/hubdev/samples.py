"""The sample events under events/ and the data they assume.

Every sample event speaks for merchant `SAMPLE_MERCHANT_ID` with API key `SAMPLE_API_KEY`;
`seed_sample_merchant` creates exactly that merchant (fixed id, key and secrets) in an AWS
emulation, so `sam local invoke` with a sample event meets the data it expects. Sign sample
customer tokens or webhooks with `SAMPLE_CUSTOMER_TOKEN_SECRET` / `SAMPLE_WEBHOOK_SECRET`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from customer_hub.infra.store import serialize
from customer_hub.merchants.api_keys import API_KEY_SK, api_key_pk
from customer_hub.merchants.profiles import PROFILE_SK, Merchant, merchant_pk
from hubdev.aws import LOCAL_AWS_ENV, REGION
from hubdev.smile_standin import SmileStandIn

SAMPLE_MERCHANT_ID = "m_0123456789abcdef"
SAMPLE_API_KEY = "chk_example-key"  # a sample credential, only in emulations
SAMPLE_CUSTOMER_TOKEN_SECRET = "sample-customer-token-secret-not-for-production"  # noqa: S105
SAMPLE_WEBHOOK_SECRET = "sample-webhook-secret-not-for-production"  # noqa: S105
SAMPLE_SMILE_API_KEY = "sk_example_smile_key"  # the Smile stand-in account of the samples
SAMPLE_MERCHANT = Merchant(
    merchant_id=SAMPLE_MERCHANT_ID,
    name="Sample Outfitters",
    shop_domain="sample-outfitters.myshopify.com",
    timezone="America/New_York",
    currency="USD",
    created_at="2026-01-05T09:00:00Z",
)

# A DynamoDB Streams record of an item deleted by TTL carries this identity.
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def event_kind(event: dict[str, Any]) -> str:
    """http | authorizer | schedule | dynamodb | sqs | eventbridge — what AWS event this is."""
    if event.get("type") == "REQUEST" and "routeArn" in event:
        return "authorizer"
    if "routeKey" in event:
        return "http"
    if event.get("detail-type") == "Scheduled Event":
        return "schedule"
    if "detail-type" in event and "source" in event:
        return "eventbridge"
    records = event.get("Records") or []
    if records and records[0].get("eventSource") == "aws:dynamodb":
        return "dynamodb"
    if records and records[0].get("eventSource") == "aws:sqs":
        return "sqs"
    raise ValueError("unknown event shape")


def load_event(path: Path) -> dict[str, Any]:
    event = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(event, dict):
        raise ValueError(f"{path}: an event is a JSON object")
    return event


def add_sample_smile_account(standin: SmileStandIn) -> None:
    """The Smile.io account the samples connect with, in a running stand-in (demo program)."""
    standin.add_account(SAMPLE_SMILE_API_KEY, name=SAMPLE_MERCHANT.name)


def seed_sample_merchant(endpoint: str, environment: dict[str, str]) -> None:
    """Create the sample merchant (profile, API key, credentials secret) at `endpoint`.

    `environment` is the functions' resolved environment (DATA_TABLE, SECRETS_PREFIX).
    """
    session = boto3.session.Session(
        aws_access_key_id=LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    table = environment["DATA_TABLE"]
    profile = {
        "pk": merchant_pk(SAMPLE_MERCHANT_ID),
        "sk": PROFILE_SK,
        **SAMPLE_MERCHANT.model_dump(),
    }
    api_key = {
        "pk": api_key_pk(SAMPLE_API_KEY),
        "sk": API_KEY_SK,
        "merchant_id": SAMPLE_MERCHANT_ID,
    }
    for item in (profile, api_key):
        dynamodb.put_item(TableName=table, Item=serialize(item))
    secrets = session.client("secretsmanager", endpoint_url=endpoint)
    name = f"{environment['SECRETS_PREFIX']}/merchants/{SAMPLE_MERCHANT_ID}/credentials"
    value = json.dumps(
        {
            "customer_token_secret": SAMPLE_CUSTOMER_TOKEN_SECRET,
            "webhook_secret": SAMPLE_WEBHOOK_SECRET,
        }
    )
    try:
        secrets.create_secret(Name=name, SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=name, SecretString=value)
