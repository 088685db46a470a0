"""What a server process does before it answers, and what `make run` / `make test` skip when
nothing changed."""

import os
import subprocess
import sys
from pathlib import Path

from api.config.env import BASE_DIR


def test_the_wsgi_module_imports_every_view_before_the_first_request():
    # A fresh interpreter, as a granian worker is: importing the application must already
    # have imported the views that the first request would otherwise import.
    probe = (
        "import sys, api.config.wsgi; "
        "print('api.transfers.apis.accept' in sys.modules, 'api.users.apis' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "api.config.settings.test"}
    result = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-c", probe], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.stdout.split() == ["True", "True"], result.stderr


def ensure_web_build(root: Path) -> list[str]:
    """Runs scripts/services.sh's ensure_web_build in `root` with an npm that only records
    its arguments; returns the npm calls."""
    calls = root / "npm-calls"
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "npm").write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    (bin_dir / "npm").chmod(0o755)
    script = f'source "{BASE_DIR}/scripts/services.sh"; ensure_web_build'
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["bash", "-c", script], cwd=root, env=env, check=True)  # noqa: S603, S607
    return calls.read_text().splitlines() if calls.exists() else []


def test_the_web_app_is_built_only_when_a_source_is_newer_than_the_last_build(tmp_path):
    web = tmp_path / "web"
    for folder in ("src", "public", "dist", "node_modules"):
        (web / folder).mkdir(parents=True)
    for name in (
        "src/main.tsx",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ):
        (web / name).write_text("x")
    (web / "node_modules" / ".package-lock.json").write_text("x")  # packages installed
    (web / "dist" / "index.html").write_text("built")
    old = (web / "dist" / "index.html").stat().st_mtime - 60
    for path in web.rglob("*"):
        if path.is_file() and path.parent.name != "dist":
            os.utime(path, (old, old))

    assert ensure_web_build(tmp_path) == []  # every source older than the build

    (web / "src" / "main.tsx").write_text("changed")
    assert ensure_web_build(tmp_path) == ["run --silent build"]
