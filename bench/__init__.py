"""Benchmarks: each module prints a table of figures measured against a reference in the same run."""
