"""The benchmark: synthetic datasets, in-process latency, HTTP load and the report (SPEC §8).

Never collected as tests; run it with `make bench` (see docs/performance.md).
"""
