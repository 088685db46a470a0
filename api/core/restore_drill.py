"""A restore drill: back the database up with pg_dump, restore it into a new database, and
prove the copy is whole (README, "Operating it").

1. One REPEATABLE READ transaction on the database exports its snapshot and counts every
   table of the project in it; pg_dump dumps that same snapshot (`--snapshot`), so the
   counts are what the backup must hold, however busy the database is meanwhile.
2. `createdb` and `pg_restore --exit-on-error` make the copy.
3. The copy's tables are counted again and must equal the snapshot's; the caller's check
   (`manage.py ledger_audit` for the ledger) runs against the copy.
4. The copy and the dump are removed unless kept.

PostgreSQL's own client programs do the work (pg_dump, createdb, pg_restore, dropdb), the
connection settings travel in their PG* environment variables, never on a command line.
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg2
from django.apps import apps
from django.conf import settings
from django.db import connection

# Project tables only: Django's own (sessions, admin log, ...) are restored all the same.
PROJECT_APPS = ("api.",)
TIMEOUT_SECONDS = 3600  # each client program; a drill on a large database takes a while


class DrillError(RuntimeError):
    pass


@dataclass
class Drill:
    source: str
    copy: str
    dump: Path
    dump_bytes: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # per step
    counted: dict[str, int] = field(default_factory=dict)  # rows per table in the snapshot
    restored: dict[str, int] = field(default_factory=dict)  # rows per table in the copy
    check_output: str = ""
    check_passed: bool = False

    @property
    def counts_match(self) -> bool:
        return bool(self.counted) and self.counted == self.restored

    @property
    def passed(self) -> bool:
        return self.counts_match and self.check_passed


def _server() -> dict[str, str]:
    database = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        raise DrillError("The restore drill needs PostgreSQL (DATABASE_URL); this is SQLite.")
    return {
        "name": database["NAME"],
        "host": database.get("HOST") or "",  # empty: libpq's default (the local socket)
        "port": str(database.get("PORT") or 5432),
        "user": database.get("USER") or "postgres",
        "password": database.get("PASSWORD") or "",
    }


def _pg_env(server: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "PGPORT": server["port"],
        "PGUSER": server["user"],
        "PGCONNECT_TIMEOUT": "10",
    }
    if server["host"]:
        env["PGHOST"] = server["host"]
    if server["password"]:
        env["PGPASSWORD"] = server["password"]
    return env


def _run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 - PostgreSQL's client programs, our arguments
        command, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
    )
    if result.returncode:
        raise DrillError(f"{command[0]} failed: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def project_tables() -> list[str]:
    return sorted(
        {
            model._meta.db_table
            for model in apps.get_models()
            if model.__module__.startswith(PROJECT_APPS)
            and model._meta.managed
            and not model._meta.proxy
        }
    )


def _count(cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - our own table names
        counts[table] = cursor.fetchone()[0]
    return counts


def _connect(server: dict[str, str], database: str):
    return psycopg2.connect(
        host=server["host"] or None,
        port=server["port"],
        user=server["user"],
        password=server["password"] or None,
        dbname=database,
        connect_timeout=10,
    )


def restore_drill(*, copy: str, workdir: Path, check: list[str], keep: bool) -> Drill:
    """Dumps the default database, restores it as `copy`, counts and checks the copy with
    `manage.py <check...>`; removes the copy and the dump unless `keep`."""
    server = _server()
    env = _pg_env(server)
    workdir.mkdir(parents=True, exist_ok=True)
    drill = Drill(source=server["name"], copy=copy, dump=workdir / f"{copy}.dump")
    tables = project_tables()
    restored = False
    try:
        started = time.monotonic()
        snapshot = _connect(server, server["name"])
        try:
            snapshot.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with snapshot.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot_id = cursor.fetchone()[0]
                drill.counted = _count(cursor, tables)
            _run(
                ["pg_dump", "--format=custom", f"--snapshot={snapshot_id}",
                 f"--file={drill.dump}", server["name"]],
                env,
            )  # fmt: skip
        finally:
            snapshot.close()
        drill.dump_bytes = drill.dump.stat().st_size
        drill.seconds["dump"] = time.monotonic() - started

        started = time.monotonic()
        _run(["createdb", "--template=template0", copy], env)
        restored = True
        _run(
            ["pg_restore", "--exit-on-error", "--no-owner", f"--dbname={copy}", str(drill.dump)],
            env,
        )
        drill.seconds["restore"] = time.monotonic() - started

        started = time.monotonic()
        copied = _connect(server, copy)
        try:
            with copied.cursor() as cursor:
                drill.restored = _count(cursor, tables)
        finally:
            copied.close()
        result = subprocess.run(  # noqa: S603 - this interpreter, our manage.py
            [sys.executable, str(settings.BASE_DIR / "manage.py"), *check],
            env={**os.environ, "DATABASE_URL": _url(server, copy)},
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
        drill.check_output = (result.stdout + result.stderr).strip()
        drill.check_passed = result.returncode == 0
        drill.seconds["check"] = time.monotonic() - started
    finally:
        if not keep:
            if restored:
                _run(["dropdb", "--if-exists", "--force", copy], env)
            drill.dump.unlink(missing_ok=True)
    return drill


def _url(server: dict[str, str], database: str) -> str:
    credentials = quote(server["user"], safe="")
    if server["password"]:
        credentials += ":" + quote(server["password"], safe="")
    return f"postgres://{credentials}@{server['host']}:{server['port']}/{database}"
