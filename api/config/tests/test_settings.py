"""Settings per mode, checked in fresh interpreters: what a process does at start-up."""

import json
import os
import subprocess
import sys

from api.config.env import BASE_DIR

PRODUCTION_SECRETS = {
    "SECRET_KEY": "x" * 50,
    "AADHAAR_KEYS": "k1:" + "A" * 43 + "=",
    "AADHAAR_INDEX_KEY": "A" * 43 + "=",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/vaultpay",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def start_django(
    settings_module: str, env: dict[str, str], then: str = "print('started')"
) -> subprocess.CompletedProcess:
    """Runs `then` after django.setup() in a new interpreter with only `env` configured."""
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_SECRETS}
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", f"import django; django.setup(); {then}"],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_each_secret():
    for missing in ["SECRET_KEY", "AADHAAR_KEYS", "AADHAAR_INDEX_KEY", "DATABASE_URL"]:
        env = {k: v for k, v in PRODUCTION_SECRETS.items() if k != missing} | {"DEMO_DATA": "0"}
        result = start_django("api.config.settings.production", env)
        assert result.returncode != 0, missing
        assert f"The environment variable {missing} is required" in result.stderr


def test_production_starts_with_every_secret():
    result = start_django("api.config.settings.production", PRODUCTION_SECRETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"


def test_a_production_demo_generates_missing_secrets_once_into_the_run_folder(tmp_path):
    services = {k: PRODUCTION_SECRETS[k] for k in ("DATABASE_URL", "REDIS_URL")}
    env = {**services, "DEMO_DATA": "1", "VAULTPAY_RUN_DIR": str(tmp_path)}
    show = "from django.conf import settings as s; print(s.SECRET_KEY, s.AADHAAR_KEYS)"
    first = start_django("api.config.settings.production", env, then=show)
    second = start_django("api.config.settings.production", env, then=show)
    given = start_django(
        "api.config.settings.production", {**env, "SECRET_KEY": "y" * 50}, then=show
    )

    assert first.returncode == second.returncode == given.returncode == 0, first.stderr
    saved = json.loads((tmp_path / "secrets.json").read_text())
    assert first.stdout.split() == [saved["SECRET_KEY"], saved["AADHAAR_KEYS"]]
    assert second.stdout == first.stdout  # every process of the demo gets the same ones
    assert given.stdout.split() == ["y" * 50, saved["AADHAAR_KEYS"]]  # a set one wins


def test_local_mode_generates_secrets_once_and_reuses_them(tmp_path):
    env = {"VAULTPAY_RUN_DIR": str(tmp_path)}
    first = start_django("api.config.settings.local", env)
    saved = json.loads((tmp_path / "secrets.json").read_text())
    second = start_django("api.config.settings.local", env)

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert json.loads((tmp_path / "secrets.json").read_text()) == saved
    assert set(saved) == {"SECRET_KEY", "AADHAAR_KEYS", "AADHAAR_INDEX_KEY"}
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0  # owner-only


def test_local_mode_uses_sqlite_in_wal_mode(tmp_path):
    result = start_django(
        "api.config.settings.local",
        {"VAULTPAY_RUN_DIR": str(tmp_path)},
        then=(
            "from django.db import connection; c = connection.cursor(); "
            "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]); "
            "print(connection.settings_dict['OPTIONS']['transaction_mode'])"
        ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "IMMEDIATE"]
    assert (tmp_path / "vaultpay.sqlite3").exists()


def settings_of(settings_module: str, env: dict[str, str], *names: str) -> dict:
    """The named settings as a started process sees them."""
    result = start_django(
        settings_module,
        env,
        then=(
            "import json; from django.conf import settings; "
            f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
        ),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_gives_no_welcome_credit_unless_configured(tmp_path):
    production = "api.config.settings.production"
    assert settings_of(production, PRODUCTION_SECRETS, "WELCOME_CREDIT_PAISE") == {
        "WELCOME_CREDIT_PAISE": 0
    }
    configured = {**PRODUCTION_SECRETS, "WELCOME_CREDIT": "25.50"}
    assert settings_of(production, configured, "WELCOME_CREDIT_PAISE") == {
        "WELCOME_CREDIT_PAISE": 2550
    }
    for mode in ("local", "test"):
        local = {"VAULTPAY_RUN_DIR": str(tmp_path)}
        assert settings_of(f"api.config.settings.{mode}", local, "WELCOME_CREDIT_PAISE") == {
            "WELCOME_CREDIT_PAISE": 100_000
        }, mode


def requests_seen(env: dict[str, str]) -> dict:
    """Answers of production settings to a plain-http request, a health probe and an https
    request (as a TLS-terminating proxy forwards it), without touching a database."""
    result = start_django(
        "api.config.settings.production",
        env,
        then=(
            "import json; from django.test import Client; c = Client(HTTP_HOST='localhost'); "
            "plain = c.get('/api/users/profile/'); probe = c.get('/healthz'); "
            "tls = c.get('/healthz', HTTP_X_FORWARDED_PROTO='https'); "
            "print(json.dumps({'plain': [plain.status_code, plain.get('Location')], "
            "'probe': probe.status_code, 'hsts': tls.get('Strict-Transport-Security')}))"
        ),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_redirects_to_https_and_sends_hsts_by_default():
    seen = requests_seen(PRODUCTION_SECRETS)

    assert seen["plain"] == [301, "https://localhost/api/users/profile/"]
    assert seen["probe"] == 200  # orchestrators probe over plain http
    assert seen["hsts"] == "max-age=31536000; includeSubDomains"


def test_production_tls_settings_come_from_the_environment():
    seen = requests_seen(
        {
            **PRODUCTION_SECRETS,
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "600",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "0",
            "SECURE_HSTS_PRELOAD": "1",
        }
    )

    assert seen["plain"][0] == 401  # answered over http, not redirected
    assert seen["hsts"] == "max-age=600; preload"


def test_production_cookies_are_secure_and_hidden_from_scripts():
    names = [
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
    ]
    seen = settings_of("api.config.settings.production", PRODUCTION_SECRETS, *names)

    assert seen == dict.fromkeys(names, True)


def test_production_refuses_to_start_in_debug_mode():
    result = start_django(
        "api.config.settings.production", {**PRODUCTION_SECRETS, "DJANGO_DEBUG": "1"}
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_DEBUG=1 is refused under production settings" in (
        result.stderr
    )
