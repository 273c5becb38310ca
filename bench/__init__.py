"""Benchmarks: scripts run by `make bench`, each writing bench/results/<name>.md."""
