"""The Smile.io REST client: one method per Smile endpoint the hub uses, typed answers.

    with SmileClient(api_key) as smile:
        settings = smile.get_points_settings()
        for customer in smile.iter_customers(updated_at_min="2026-11-23T10:00:00Z"):
            ...

The HTTP side (bearer key, timeouts, the shared limiter's slot, retries — a purchase only when
Smile cannot have acted — and both paginations) is `customer_hub.smile.transport`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from customer_hub.smile.errors import (
    SmileError,
    SmileInvalidResponse,
    SmileNotFound,
)
from customer_hub.smile.models import (
    Customer,
    EarningRule,
    Page,
    PointsProduct,
    PointsPurchase,
    PointsSettings,
    RewardFulfillment,
    VipSettings,
    VipTier,
)
from customer_hub.smile.transport import (
    MAX_PAGE_SIZE,
    RetryPolicy,
    SmileTransport,
    Timeouts,
    _parse,
    _parse_items,
)

__all__ = ["MAX_PAGE_SIZE", "RetryPolicy", "SmileClient", "Timeouts"]


class SmileProgramCalls(SmileTransport):
    """The loyalty program's settings and catalogue (what the sync copies first)."""

    def get_points_settings(self) -> PointsSettings:
        data = self.get("/points_settings") or {}
        return _parse(PointsSettings, data.get("points_settings"), "/points_settings")

    def verify(self) -> PointsSettings:
        """The cheapest authenticated call: raises SmileUnauthorized for a rejected key."""
        return self.get_points_settings()

    def list_points_products(
        self, *, exchange_type: str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> list[PointsProduct]:
        """Page-number pagination: the last page is the one shorter than `page_size`."""
        products: list[PointsProduct] = []
        page = 1
        while True:
            data = self.get(
                "/points_products", exchange_type=exchange_type, page=page, page_size=page_size
            )
            items = (data or {}).get("points_products") or []
            products += _parse_items(PointsProduct, items, "/points_products")
            if len(items) < page_size:
                return products
            page += 1

    def list_earning_rules(self) -> list[EarningRule]:
        return list(self._iter("/earning_rules", "earning_rules", EarningRule, {}))

    def list_vip_tiers(self) -> list[VipTier]:
        data = self.get("/vip_tiers") or {}
        return _parse_items(VipTier, data.get("vip_tiers"), "/vip_tiers")

    def get_referral_settings(self) -> dict[str, Any] | None:
        """Referral program settings (absent from the public OpenAPI profile); None if unknown."""
        try:
            data = self.get("/referral_settings") or {}
        except SmileNotFound:
            return None
        settings = data.get("referral_settings")
        return settings if isinstance(settings, dict) else None

    def get_vip_settings(self) -> VipSettings | None:
        """Whether tier milestones are points earned or amount spent; None when Smile has no VIP
        settings for the account (no VIP program, or an account without this resource)."""
        try:
            data = self.get("/vip_settings") or {}
        except SmileNotFound:
            return None
        settings = data.get("vip_settings")
        return VipSettings.model_validate(settings) if isinstance(settings, dict) else None


class SmileClient(SmileProgramCalls):
    """One merchant's Smile.io account: one method per Smile endpoint the hub uses (the
    program's in `SmileProgramCalls`, customers and their rewards here)."""

    # ------------------------------------------------------------------ customers
    def customers_page(
        self,
        *,
        cursor: str | None = None,
        updated_at_min: str | None = None,
        email: str | None = None,
        state: str | None = None,
        limit: int = MAX_PAGE_SIZE,
        include_vip_status: bool = True,
    ) -> Page[Customer]:
        return self._page(
            "/customers",
            "customers",
            Customer,
            {
                "cursor": cursor,
                "updated_at_min": updated_at_min,
                "email": email,
                "state": state,
                "limit": limit,
                "include": "vip_status" if include_vip_status else None,
            },
        )

    def iter_customers(self, **filters: Any) -> Iterator[Customer]:
        filters.setdefault("include", "vip_status")
        filters.setdefault("limit", MAX_PAGE_SIZE)
        return self._iter("/customers", "customers", Customer, filters)

    def get_customer(self, customer_id: int, *, include_vip_status: bool = True) -> Customer:
        data = self.get(
            f"/customers/{int(customer_id)}",
            include="vip_status" if include_vip_status else None,
        )
        return _parse(Customer, (data or {}).get("customer"), "/customers/{id}")

    def find_customers_by_email(self, email: str) -> list[Customer]:
        """Every Smile customer with this email (emails are not unique in Smile)."""
        wanted = email.strip().lower()
        found = self.iter_customers(email=email.strip())
        return [c for c in found if (c.email or "").strip().lower() == wanted]

    # ------------------------------------------------------------------ rewards
    def purchase(
        self, points_product_id: int, customer_id: int, points_to_spend: int | None = None
    ) -> PointsPurchase:
        """Spend points on a points product (201). Never retried once Smile may have acted."""
        body: dict[str, Any] = {"customer_id": int(customer_id)}
        if points_to_spend is not None:
            body["points_to_spend"] = int(points_to_spend)
        data = self.request(
            "POST",
            f"/points_products/{int(points_product_id)}/purchase",
            body=body,
            retry_unsafe=False,
        )
        try:
            return _parse(PointsPurchase, (data or {}).get("points_purchase"), "/purchase")
        except SmileError as exc:
            exc.maybe_acted = True  # Smile answered 2xx: it did act, its answer is unusable
            raise

    def create_points_transaction(
        self,
        customer_id: int,
        points_change: int,
        description: str,
        *,
        internal_note: str | None = None,
    ) -> dict[str, Any]:
        """Add (positive) or deduct (negative) points, e.g. to compensate a mistaken purchase.

        Like a purchase it has no idempotency key, so it is retried only when Smile cannot have
        acted. Returns Smile's `points_transaction` object.
        """
        transaction: dict[str, Any] = {
            "customer_id": int(customer_id),
            "points_change": int(points_change),
            "description": description,
        }
        if internal_note is not None:
            transaction["internal_note"] = internal_note
        data = self.request(
            "POST",
            "/points_transactions",
            body={"points_transaction": transaction},
            retry_unsafe=False,
        )
        created = (data or {}).get("points_transaction")
        if not isinstance(created, dict):
            raise SmileInvalidResponse(
                "Smile.io sent no points_transaction", path="/points_transactions"
            )
        return created

    def fulfillments_page(
        self,
        *,
        cursor: str | None = None,
        customer_id: int | None = None,
        updated_at_min: str | None = None,
        fulfillment_status: str | None = None,
        usage_status: str | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> Page[RewardFulfillment]:
        return self._page(
            "/reward_fulfillments",
            "reward_fulfillments",
            RewardFulfillment,
            {
                "cursor": cursor,
                "customer_id": customer_id,
                "updated_at_min": updated_at_min,
                "fulfillment_status": fulfillment_status,
                "usage_status": usage_status,
                "limit": limit,
            },
        )

    def list_reward_fulfillments(
        self, customer_id: int, *, updated_at_min: str | None = None
    ) -> list[RewardFulfillment]:
        return list(
            self._iter(
                "/reward_fulfillments",
                "reward_fulfillments",
                RewardFulfillment,
                {
                    "customer_id": int(customer_id),
                    "updated_at_min": updated_at_min,
                    "limit": MAX_PAGE_SIZE,
                },
            )
        )

    def get_reward_fulfillment(
        self, fulfillment_id: int, customer_id: int, *, updated_at_min: str | None = None
    ) -> RewardFulfillment | None:
        """One fulfillment. Smile has no GET /reward_fulfillments/{id}: list the customer's."""
        for page_item in self._iter(
            "/reward_fulfillments",
            "reward_fulfillments",
            RewardFulfillment,
            {
                "customer_id": int(customer_id),
                "updated_at_min": updated_at_min,
                "limit": MAX_PAGE_SIZE,
            },
        ):
            if page_item.id == fulfillment_id:
                return page_item
        return None
