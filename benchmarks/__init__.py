"""Benchmarks for recommender: run as ``python -m benchmarks.<name>`` from the repository root (not tests)."""
