"""Benchmarks for ticker: `make bench` (python -m benchmarks) runs them and writes docs/benchmarks.md."""
