"""Benchmarks (not tests): `python -m bench [name ...]` runs them and rewrites docs/benchmarks.md.

Every figure is a ratio or a difference measured within one run (the machine is shared and noisy), taken as a
median over repeated samples. Each benchmark starts its own processes (fake LLM server, Celery workers,
gunicorn) and stops them on every exit path.
"""
