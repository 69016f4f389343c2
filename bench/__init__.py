"""Benchmarks: `make bench-search`."""
