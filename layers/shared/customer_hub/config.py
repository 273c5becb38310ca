"""Function configuration: environment variables validated once per container."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, Field


class Config(BaseModel):
    stage: str = Field(default="local", alias="STAGE")
    data_table: str = Field(default="customer-hub-data", alias="DATA_TABLE")
    events_table: str = Field(default="customer-hub-events", alias="EVENTS_TABLE")
    metrics_table: str = Field(default="customer-hub-metrics", alias="METRICS_TABLE")
    idempotency_table: str = Field(default="customer-hub-idempotency", alias="IDEMPOTENCY_TABLE")
    sync_queue_url: str = Field(default="", alias="SYNC_QUEUE_URL")
    secrets_prefix: str = Field(default="customer-hub/local", alias="SECRETS_PREFIX")
    smile_api_base_url: str = Field(default="https://api.smile.io/v1", alias="SMILE_API_BASE_URL")

    model_config = {"populate_by_name": True, "extra": "ignore"}


@cache
def config() -> Config:
    import os

    return Config.model_validate(dict(os.environ))
