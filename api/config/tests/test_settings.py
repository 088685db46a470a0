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
        env = {k: v for k, v in PRODUCTION_SECRETS.items() if k != missing}
        result = start_django("api.config.settings.production", env)
        assert result.returncode != 0, missing
        assert f"The environment variable {missing} is required" in result.stderr


def test_production_starts_with_every_secret():
    result = start_django("api.config.settings.production", PRODUCTION_SECRETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"


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
