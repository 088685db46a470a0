"""Celery tasks. Each takes ids, calls one service in `api`, and owns its retry policy."""
