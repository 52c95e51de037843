"""Benchmarks run by ``make bench`` (SPEC §12); each script merges its section into results.json."""
