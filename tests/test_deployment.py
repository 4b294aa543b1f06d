"""docker-compose.yml and the README must match the settings the app really reads. There is no Docker engine on
the build machines, so this reads the files rather than starting the stack."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "beat"]


def _settings_variables() -> set[str]:
    source = (ROOT / "register" / "settings.py").read_text()
    return set(re.findall(r"env(?:\.\w+)?\(\s*\"([A-Z_]+)\"", source))


def _command(service: str) -> str:
    command = SERVICES[service]["command"]
    return " ".join(command) if isinstance(command, list) else command


def test_every_app_service_sets_only_variables_the_settings_read() -> None:
    read = _settings_variables() | {"PORT"}  # PORT is read by the gunicorn command line
    for name in APP_SERVICES:
        unknown = set(SERVICES[name]["environment"]) - read
        assert not unknown, f"{name} sets variables the app never reads: {unknown}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_in_production_mode_against_the_compose_services(name: str) -> None:
    environment = SERVICES[name]["environment"]
    assert environment["DEBUG"] == "false"
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?"), "SECRET_KEY must be required, never defaulted"
    database = urlsplit(environment["DATABASE_URL"])
    assert database.scheme == "postgres"
    assert database.hostname == "postgres" and database.port == 5432
    assert database.path == "/" + SERVICES["postgres"]["environment"]["POSTGRES_DB"]
    assert database.username == SERVICES["postgres"]["environment"]["POSTGRES_USER"]
    broker = urlsplit(environment["CELERY_BROKER_URL"])
    assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)
    assert SERVICES[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_long_running_services_wait_for_redis_and_migrations(name: str) -> None:
    depends = SERVICES[name]["depends_on"]
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_commands_start_the_right_processes() -> None:
    assert "python manage.py migrate" in _command("migrate").replace(" --noinput", "")
    assert "gunicorn register.wsgi:application" in _command("web")
    assert "--bind 0.0.0.0:$${PORT}" in _command("web")
    assert _command("worker").startswith("celery -A register worker")
    assert _command("beat").startswith("celery -A register beat")


def test_backing_services_have_health_checks_and_volumes() -> None:
    for name in ["postgres", "redis", "web", "worker"]:
        assert "healthcheck" in SERVICES[name], name
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert "redisdata:/data" in SERVICES["redis"]["volumes"]
    assert "media:/app/var/media" in SERVICES["web"]["volumes"]
    assert "media:/app/var/media" in SERVICES["worker"]["volumes"], "the worker writes the files the web serves"
    assert set(COMPOSE["volumes"]) >= {"pgdata", "redisdata", "media"}


def test_the_image_installs_the_locked_dependencies_and_the_npm_packages() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements.lock" in dockerfile
    assert "npm ci" in dockerfile
    assert "collectstatic" in dockerfile
    assert "libpango" in dockerfile


def test_the_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in _settings_variables() | {"PORT"} if f"`{name}`" not in readme}
    assert not missing, f"README.md does not document: {sorted(missing)}"
