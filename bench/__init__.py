"""Benchmarks: a data generator and one command per benchmark. See bench/README.md."""
