"""A merchant with a connected Smile account (the local stand-in) and its snapshots, for the
storefront tests: shoppers in Smile and in the hub's snapshots, customer tokens, paths."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from customer_hub.identity import mint_customer_token
from customer_hub.infra import clock
from customer_hub.infra.secrets import put_secret, smile_secret_name
from customer_hub.loyalty.snapshots import Program, save_customer, save_program
from customer_hub.merchants.profiles import CreatedMerchant, find_merchant
from customer_hub.smile import Customer as SmileCustomer
from hubdev import smile_demo
from hubdev.smile_standin import Account, SmileStandIn


@dataclass
class Shopper:
    sub: str
    email: str
    token: str
    smile_id: int | None = None


@dataclass
class Shop:
    merchant: CreatedMerchant
    standin: SmileStandIn
    api_key: str
    account: Account
    shop_domain: str = ""
    shoppers: list[Shopper] = field(default_factory=list)

    @property
    def merchant_id(self) -> str:
        return self.merchant.merchant_id

    @property
    def origin(self) -> str:
        return f"https://{self.shop_domain}"

    def path(self, suffix: str) -> str:
        return f"/v1/shops/{self.merchant_id}/hub/{suffix.lstrip('/')}"

    def token(self, sub: str, email: str, ttl: int = 600) -> str:
        return mint_customer_token(
            self.merchant_id, self.merchant.customer_token_secret, sub, email, ttl
        )

    def shopper(
        self,
        email: str | None = None,
        *,
        balance: int | None = 350,
        state: str = "member",
        in_snapshot: bool = True,
        synced_at: str | None = None,
    ) -> Shopper:
        """A logged-in shopper; `balance=None` means no Smile customer (not a member)."""
        sub = str(random.randrange(10**12, 10**13))
        email = email or f"shopper-{sub}@example.com"
        shopper = Shopper(sub, email, self.token(sub, email))
        if balance is not None:
            customer = self.account.add_customer(email, state=state, points_balance=balance)
            shopper.smile_id = int(customer["id"])
            if in_snapshot:
                self.snapshot_customer(shopper.smile_id, synced_at=synced_at)
        self.shoppers.append(shopper)
        return shopper

    def snapshot_customer(self, smile_id: int, synced_at: str | None = None) -> None:
        """Store the stand-in's customer as the sync would."""
        raw = self.account.customer_json(self.account.customers[smile_id], "vip_status")
        snapshot = SmileCustomer.model_validate(raw).snapshot(synced_at or clock.iso(clock.now()))
        save_customer(self.merchant_id, snapshot)

    def smile_balance(self, shopper: Shopper) -> int:
        assert shopper.smile_id is not None
        return int(self.account.customers[shopper.smile_id]["points_balance"])

    def purchases(self) -> list[Any]:
        return [
            r
            for r in self.standin.requests(self.account, "/points_products/")
            if r.method == "POST" and r.status == 201
        ]


def connect_shop(merchant: CreatedMerchant, standin: SmileStandIn, api_key: str) -> Shop:
    """Connect the merchant to the stand-in account and store its program snapshot."""
    account = standin.account(api_key)
    put_secret(smile_secret_name(merchant.merchant_id), {"api_key": api_key})
    program = Program.model_validate(
        {
            "points_label": smile_demo.POINTS_LABEL,
            "points_products": account.points_products,
            "earning_rules": account.earning_rules,
            "vip_tiers": account.vip_tiers,
            "referral_settings": account.referral_settings,
            "vip_settings": account.vip_settings,
            "synced_at": clock.iso(clock.now()),
        }
    )
    save_program(merchant.merchant_id, program)
    profile = find_merchant(merchant.merchant_id)
    assert profile is not None
    return Shop(merchant, standin, api_key, account, profile.shop_domain)
