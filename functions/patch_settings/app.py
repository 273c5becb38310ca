"""PATCH /v1/admin/settings — time zone, cart window and hub status (launch / disable)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body

from customer_hub.edge.http import make_app, merchant_id_from_authorizer, merchant_route
from customer_hub.merchants.profiles import SettingsPatch, update_settings
from customer_hub.schemas.admin import Settings

logger = Logger()
app = make_app()


@app.patch("/v1/admin/settings")
def patch_settings(patch: Annotated[SettingsPatch, Body(embed=False)]) -> Settings:
    merchant = update_settings(merchant_id_from_authorizer(app), patch)
    logger.info("settings changed", extra={"fields": sorted(patch.model_fields_set)})
    return Settings.model_validate(merchant.settings_json())


handler = merchant_route(app, logger, body=True)
