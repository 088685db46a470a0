import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_documents_every_users_endpoint(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {path: sorted(paths[path]) for path in paths if path.startswith("/api/users/")} == {
        "/api/users/register/": ["post"],
        "/api/users/login/": ["post"],
        "/api/users/token/refresh/": ["post"],
        "/api/users/logout/": ["post"],
        "/api/users/profile/": ["get"],
        "/api/users/profile/reveal-aadhaar/": ["post"],
    }
    assert paths["/api/users/logout/"]["post"]["responses"].keys() >= {"205", "401", "403"}
    profile = response.json()["components"]["schemas"]["User"]["properties"]
    assert profile["phone"]["nullable"] is True and "aadhaar_masked" in profile
