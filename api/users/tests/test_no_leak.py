"""The Aadhaar number appears in the reveal answer and nowhere else: no other response, no log
line, not even SQL logged at DEBUG. Passwords and tokens stay out of the logs too."""

import logging

import pytest
from django.db import connection

from api.users.tests.conftest import PASSWORD, bearer

pytestmark = pytest.mark.django_db

NUMBER = "234567890124"
FORMS = [NUMBER, "2345 6789 0124"]


def test_the_number_shows_only_in_reveal_and_never_in_logs(client, registration, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # log SQL with its parameters, as DEBUG=1 would
    try:
        body = registration(aadhaar="2345 6789 0124")
        others = [
            client.post("/api/users/register/", body),
            client.post("/api/users/register/", {**body, "email": "again@example.in"}),
            client.post("/api/users/register/", {**body, "password": "short"}),
            client.post("/api/users/login/", {"email": body["email"], "password": "wrong-1234"}),
        ]
        tokens = client.post(
            "/api/users/login/", {"email": body["email"], "password": PASSWORD}
        ).json()
        auth = bearer(tokens["access"])
        others += [
            client.get("/api/users/profile/", **auth),
            client.post(
                "/api/users/profile/reveal-aadhaar/", {"password": "wrong-horse-42"}, **auth
            ),
            client.post("/api/users/token/refresh/", {"refresh": tokens["refresh"]}),
        ]
        reveal = client.post("/api/users/profile/reveal-aadhaar/", {"password": PASSWORD}, **auth)
    finally:
        connection.force_debug_cursor = False

    assert [r.status_code for r in others] == [201, 400, 400, 401, 200, 403, 200]
    assert reveal.json() == {"aadhaar": "2345 6789 0124"}
    for response in others:
        assert not any(form in response.content.decode() for form in FORMS), response.content
    assert any(r.name == "django.db.backends" for r in caplog.records)  # SQL was captured
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in [*FORMS, PASSWORD]:
        assert secret not in logged
    # SQL logs would show the refresh token being stored (keep django.db.backends at WARNING,
    # as base settings do); everything else must not mention tokens at all.
    logged_outside_sql = "\n".join(
        record.getMessage() for record in caplog.records if record.name != "django.db.backends"
    )
    assert tokens["access"] not in logged_outside_sql
    assert tokens["refresh"] not in logged_outside_sql
