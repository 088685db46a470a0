"""Every environment variable VaultPay reads goes through this module.

Settings modules call these helpers; nothing else in the code base reads `os.environ`.
"""

import base64
import json
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]
# Git-ignored folder for everything a local run creates: SQLite file, Redis files, secrets.
RUN_DIR = Path(os.environ.get("VAULTPAY_RUN_DIR", BASE_DIR / ".run"))


def get(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def required(name: str) -> str:
    value = get(name)
    if value is None:
        raise ImproperlyConfigured(f"The environment variable {name} is required in this mode.")
    return value


def boolean(name: str, default: bool = False) -> bool:
    value = get(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, not {value!r}.")


def integer(name: str, default: int) -> int:
    value = get(name)
    try:
        return default if value is None else int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from exc


def listing(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (get(name, default) or "").split(",") if item.strip()]


def _new_local_secrets() -> dict[str, str]:
    def key() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AADHAAR_KEYS": f"k1:{key()}",
        "AADHAAR_INDEX_KEY": key(),
    }


def local_secret(name: str) -> str:
    """The variable if set, else a value generated once into RUN_DIR/secrets.json and reused.

    Several processes start at once (web, worker, beat), so the file is created with a hard
    link, which fails if another process won the race; everyone then reads the winner's file.
    """
    value = get(name)
    if value is not None:
        return value
    path = RUN_DIR / "secrets.json"
    if not path.exists():
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        draft = RUN_DIR / f".secrets.{os.getpid()}.json"
        draft.write_text(json.dumps(_new_local_secrets(), indent=2))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return json.loads(path.read_text())[name]
