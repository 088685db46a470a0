"""Celery tasks: thin interfaces that take ids and call one `api` service each."""
