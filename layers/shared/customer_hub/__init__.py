"""customer-hub shared package: domain, logic and adapters used by every Lambda function."""
