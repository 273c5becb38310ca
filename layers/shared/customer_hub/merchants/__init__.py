"""Merchants: profiles and settings, API keys, credentials, webhook secrets, shopper tokens."""
