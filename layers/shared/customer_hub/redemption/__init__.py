"""Redeeming rewards for coupons: the protocol, coupons, the idempotency ledger."""
