"""Debian's nginx in front of a test stack, with the configuration docker-compose.yml gives
the proxy (deploy/nginx/vaultpay.conf.template), its placeholders filled in as the nginx
image fills them in from the environment.

Unprivileged (started as root, it runs as `nobody`), on a free port, with every file it
writes (configuration, pid, logs, temporary bodies) in a folder of its own; only the process
started here, and the workers in its own process group, are ever signalled.
"""

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "vaultpay.conf.template"
TIMEOUT = 15.0

# The http-level file is included from this, as the nginx image includes it from its own
# nginx.conf; the rest only keeps every path inside the folder.
MAIN = """\
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{
    worker_connections 512;
}}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/vaultpay.conf;
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def render(template: str, values: dict[str, str]) -> str:
    """The template with each ${VP_NAME} replaced by values[VP_NAME] (KeyError when one has
    no value); nginx's own $variables are left alone, as the image's envsubst leaves them."""
    return re.sub(r"\$\{(VP_[A-Z_]+)\}", lambda match: values[match.group(1)], template)


class Nginx:
    def __init__(self, *, port: int, web: str, ws: str) -> None:
        self.port = port
        self.values = {
            "VP_LISTEN": f"127.0.0.1:{port}",
            "VP_WEB_UPSTREAM": web,
            "VP_WS_UPSTREAM": ws,
        }
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Nginx":
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed: apt-get install nginx (make test does)")
        # In /tmp rather than under pytest's folders, which `nobody` may not enter.
        self.folder = Path(tempfile.mkdtemp(prefix="vaultpay-nginx-"))
        (self.folder / "vaultpay.conf").write_text(render(TEMPLATE.read_text(), self.values))
        (self.folder / "nginx.conf").write_text(MAIN.format(folder=self.folder))
        user = {}
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.folder, nobody.pw_uid, nobody.pw_gid)
            for path in self.folder.iterdir():
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
            user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        command = [binary, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf")]
        # -e: its start-up messages go to the folder too, not to /var/log/nginx.
        command += ["-e", str(self.folder / "error.log")]
        self.process = subprocess.Popen(  # noqa: S603 - Debian's nginx, our configuration
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            **user,
        )
        deadline = time.monotonic() + TIMEOUT
        while not self._listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nginx did not start:\n{self.error_log()}")
            time.sleep(0.05)
        return self

    def _listening(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
            return True
        return False

    def error_log(self) -> str:
        if self.folder is None:
            return ""
        with contextlib.suppress(OSError):
            return (self.folder / "error.log").read_text()
        return ""

    def stop(self) -> None:
        """SIGTERM to the master (it stops its workers), SIGKILL to its group if it lingers;
        then its folder is removed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
