"""Helpers for tests and benchmarks that start real processes (Celery workers, gunicorn)."""
