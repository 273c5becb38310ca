"""The HTTP edge: resolver, input checks, storefront and merchant request context."""
