"""docker-compose.yml's wiring, which its schema (checked by make lint) cannot see: health
checks, the order of start-up, commands taken from the Procfile, pinned images, and the proxy
running the very template that test_proxy.py runs. No Docker engine is needed."""

import re

import pytest
import yaml

from deploy.tests.nginx import ROOT, TEMPLATE
from loadtests.stack import procfile

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# Service -> the Procfile process it runs.
APP_PROCESSES = {"api": "web", "ws": "ws", "worker": "worker", "beat": "beat"}
# An exact release: 15.19-bookworm, 1.30.4-alpine, 3.11.16-slim-bookworm; never `latest` or 15.
EXACT_TAG = re.compile(r"^[\w./-]+:\d+\.\d+(\.\d+)?-[\w.-]+$")


def test_every_long_running_service_has_a_health_check():
    for name, service in SERVICES.items():
        if name == "migrate":  # a one-shot: its exit status is what the others wait for
            assert service["restart"] == "no"
            assert "healthcheck" not in service
        else:
            assert service["healthcheck"]["test"], name


@pytest.mark.parametrize(("name", "process"), APP_PROCESSES.items())
def test_app_services_run_their_procfile_process_once_migrations_are_done(name, process):
    service = SERVICES[name]
    assert service["command"] == ["scripts/procfile.sh", process]
    assert procfile(process) is not None
    assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "run:/app/.run" in service["volumes"]  # the demo's secrets and beat's schedule


def test_the_one_shot_migrates_then_loads_the_demo_data():
    command = SERVICES["migrate"]["command"][-1]
    assert command.startswith("scripts/procfile.sh release && ")
    assert "seed_demo --if-empty" in command
    assert procfile("release") == "python manage.py migrate --noinput"


def test_images_and_base_images_are_pinned_to_exact_versions():
    images = [s["image"] for s in SERVICES.values() if "build" not in s]
    dockerfile = (ROOT / "Dockerfile").read_text()
    images += re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert len(images) == 5
    for image in images:
        assert EXACT_TAG.match(image), image


def test_the_proxy_runs_the_tested_template_with_every_placeholder_filled():
    proxy = SERVICES["proxy"]
    source = proxy["volumes"][0].split(":")[0]
    assert (ROOT / source).resolve() == TEMPLATE
    placeholders = set(re.findall(r"\$\{(VP_[A-Z_]+)\}", TEMPLATE.read_text()))
    given = {k for k in proxy["environment"] if k.startswith("VP_")}
    assert placeholders == given == {"VP_LISTEN", "VP_WEB_UPSTREAM", "VP_WS_UPSTREAM"}
    assert proxy["environment"]["NGINX_ENVSUBST_FILTER"] == "^VP_"
