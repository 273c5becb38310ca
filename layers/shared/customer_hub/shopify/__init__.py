"""Shopify: webhooks (orders, customers) and theme-signed hub sessions."""
