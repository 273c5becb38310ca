"""AWS clients, configuration, clock, the DynamoDB table helper, caches, secrets, logs/metrics."""
