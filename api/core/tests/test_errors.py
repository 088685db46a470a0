"""Every source of an error response answers with the error envelope (README, "API")."""

import time
from datetime import timedelta

import pytest
from django.db import IntegrityError
from rest_framework_simplejwt.tokens import AccessToken

from api.core.errors import INTERNAL_ERROR
from api.core.testing import assert_error
from api.core.tests.views import SECRET_DETAIL

pytestmark = pytest.mark.urls("api.core.tests.urls")

ORDER = "/api/test/order/"
VALID_ORDER = {"party": {"email": "a@example.test"}, "lines": [{"quantity": 1}]}


def bearer(token) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_body_passes(client):
    response = client.post(ORDER, VALID_ORDER, content_type="application/json")

    assert response.status_code == 200
    assert response.json() == VALID_ORDER


def test_validation_errors_name_each_field(client):
    response = client.post(ORDER, {"party": {}}, content_type="application/json")

    assert_error(
        response,
        400,
        "validation_error",
        {"party.email": ["This field is required."], "lines": ["This field is required."]},
    )


@pytest.fixture(params=[True, False], ids=["errors_as_dict", "errors_as_list"])
def list_error_shape(request, settings):
    """DRF reports the errors of list items as {index: errors}, or in its older shape as a
    list with the errors or {} for each item; both flatten alike."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "LIST_SERIALIZER_ERRORS_AS_DICT": request.param,
    }


@pytest.mark.filterwarnings("ignore:The list-based error format")
def test_nested_validation_errors_are_flattened_to_dotted_paths(client, list_error_shape):
    body = {
        "party": {"email": "not-an-email"},
        "lines": [{"quantity": 1}, {"quantity": "many"}],
        "tags": [1, "x", 3, "y"],
    }

    response = client.post(ORDER, body, content_type="application/json")

    assert_error(
        response,
        400,
        "validation_error",
        {
            "party.email": ["Enter a valid email address."],
            "lines.1.quantity": ["A valid integer is required."],
            "tags.1": ["A valid integer is required."],
            "tags.3": ["A valid integer is required."],
        },
    )


@pytest.mark.filterwarnings("ignore:The list-based error format")
def test_errors_in_a_top_level_list_are_keyed_by_index(client, list_error_shape):
    body = [{"quantity": 1}, {"quantity": "many"}, {}]

    response = client.post("/api/test/lines/", body, content_type="application/json")

    assert_error(
        response,
        400,
        "validation_error",
        {
            "1.quantity": ["A valid integer is required."],
            "2.quantity": ["This field is required."],
        },
    )


def test_object_level_validation_errors_go_under_non_field_errors(client):
    body = {**VALID_ORDER, "party": {"email": "a@blocked.test"}}

    response = client.post(ORDER, body, content_type="application/json")

    assert_error(
        response, 400, "validation_error", {"non_field_errors": ["This party is blocked."]}
    )


def test_malformed_json_is_a_400(client):
    response = client.post(ORDER, '{"party": ', content_type="application/json")

    assert_error(response, 400, "malformed_request")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz"],
)
def test_bodies_that_are_not_json_are_a_415(client, content_type):
    response = client.post(ORDER, "party=x", content_type=content_type)

    assert_error(response, 415, "unsupported_media_type")


def test_a_missing_token_is_a_401_with_www_authenticate(client):
    response = client.get("/api/test/protected/")

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("kind", ["garbage", "expired"])
def test_a_bad_or_expired_token_is_a_401_token_not_valid(client, kind):
    if kind == "expired":
        token = AccessToken()
        token["user_id"] = "00000000-0000-0000-0000-000000000001"
        token.set_exp(lifetime=-timedelta(seconds=1))
    else:
        token = "not.a.jwt"

    response = client.get("/api/test/protected/", headers=bearer(token))

    assert_error(response, 401, "token_not_valid")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "messages" not in response.content.decode()


def test_an_authenticated_user_without_permission_gets_a_403(client):
    token = AccessToken()
    token["user_id"] = "00000000-0000-0000-0000-000000000001"

    response = client.get("/api/test/staff/", headers=bearer(token))

    assert_error(response, 403, "permission_denied")


def test_djangos_permission_denied_in_a_drf_view_is_a_403(client):
    response = client.get("/api/test/django-permission-denied/")

    assert_error(response, 403, "permission_denied")
    assert SECRET_DETAIL not in response.content.decode()


def test_djangos_http404_in_a_drf_view_is_a_404(client):
    response = client.get("/api/test/django-not-found/")

    assert_error(response, 404, "not_found")
    assert SECRET_DETAIL not in response.content.decode()


def test_throttled_requests_get_a_429_with_retry_after(client):
    for _ in range(2):
        assert client.get("/api/test/throttled/").status_code == 200

    response = client.get("/api/test/throttled/")

    assert_error(response, 429, "throttled")
    assert 55 <= int(response["Retry-After"]) <= 60


def test_an_application_error_keeps_its_code_status_and_fields(client):
    response = client.get("/api/test/application-error/")

    assert_error(response, 422, "idempotency_key_reused", {"Idempotency-Key": ["Already used."]})


@pytest.mark.parametrize("path", ["/api/no-such-thing/", "/no-such-page/", "/api/test/order/x/"])
def test_unknown_paths_are_a_404(client, path):
    assert_error(client.get(path), 404, "not_found")


def test_a_wrong_method_on_a_drf_view_is_a_405_with_allow(client):
    response = client.get(ORDER)

    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST, OPTIONS"


def test_a_wrong_method_on_a_plain_django_view_is_a_405_with_allow(client):
    response = client.get("/plain/post-only/")

    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


def test_debug_mode_keeps_djangos_debug_pages(client, settings):
    settings.DEBUG = True

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_disallowed_host_is_a_400(client):
    response = client.get("/healthz", headers={"Host": "evil.example"})

    assert_error(response, 400, "bad_request")


def assert_internal_error(response, caplog, cause: type[Exception]):
    """A bare internal_error outside, and the full exception in our logs."""
    error = assert_error(response, 500, INTERNAL_ERROR[0])
    assert error["message"] == INTERNAL_ERROR[1]
    text = response.content.decode()
    for leak in (SECRET_DETAIL, "Traceback", "Error", "duplicate key", "INSERT", "django_"):
        assert leak not in text
    logged = [r.exc_info[0] for r in caplog.records if r.levelname == "ERROR" and r.exc_info]
    assert logged == [cause]


@pytest.mark.parametrize("path", ["/api/test/crash/", "/plain/crash/"])
def test_an_unexpected_exception_is_a_bare_500(crash_client, caplog, path):
    assert_internal_error(crash_client.get(path), caplog, RuntimeError)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/test/integrity-error/", "/plain/integrity-error/"])
def test_a_database_error_is_a_bare_500_without_sql(crash_client, caplog, path):
    assert_internal_error(crash_client.get(path), caplog, IntegrityError)


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, "not_authenticated"), (405, "method_not_allowed"), (429, "throttled")],
)
def test_a_rewritten_plain_error_keeps_allow_retry_after_and_www_authenticate(client, status, code):
    response = client.get(f"/plain/error/{status}/")

    assert_error(response, status, code)
    assert response["Allow"] == "POST"
    assert response["Retry-After"] == "7"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def assert_service_unavailable(response) -> None:
    assert_error(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5"
    for leak in ("Traceback", "Error", "connection", "127.0.0.1"):
        assert leak not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/test/database/", "/plain/database/"])
def test_an_unreachable_database_is_a_503_with_retry_after(
    crash_client, database_unreachable, path
):
    assert_service_unavailable(crash_client.get(path))


@pytest.mark.parametrize("fault", ["kill", "freeze"])
@pytest.mark.parametrize("path", ["/api/test/redis/", "/plain/redis/"])
def test_an_unreachable_or_frozen_redis_is_a_503_with_retry_after_at_once(
    crash_client, private_redis, fault, path
):
    getattr(private_redis, fault)()

    started = time.monotonic()
    response = crash_client.get(path)

    assert time.monotonic() - started < 0.75  # one 250 ms timeout, and margin
    assert_service_unavailable(response)
