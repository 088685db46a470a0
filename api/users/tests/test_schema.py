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
        "/api/users/lookup/": ["get"],
    }
    assert paths["/api/users/logout/"]["post"]["responses"].keys() >= {"205", "401", "403"}
    lookup = paths["/api/users/lookup/"]["get"]
    assert lookup["responses"].keys() == {"200", "400", "401", "404", "406", "429", "503"}
    assert [(p["name"], p["in"], p["required"]) for p in lookup["parameters"]] == [
        ("email", "query", True)
    ]
    profile = response.json()["components"]["schemas"]["User"]["properties"]
    assert profile["phone"]["nullable"] is True and "aadhaar_masked" in profile
