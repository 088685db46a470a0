import pytest
from django.test import Client


@pytest.fixture
def crash_client():
    """A client that returns the 500 response, as a real server would, instead of re-raising
    the view's exception into the test."""
    return Client(raise_request_exception=False)
