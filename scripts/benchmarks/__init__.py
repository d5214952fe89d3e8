"""Sections of scripts/benchmark.py, one concern each; every section returns plain JSON data."""
