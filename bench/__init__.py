"""Benchmarks: geovec against the peer a user would reach for, like with like (common.py)."""
