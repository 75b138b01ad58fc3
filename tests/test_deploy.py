"""compose.yaml and deploy/: the invariants a production deployment relies on.

There is no Docker engine in CI, so this checks the file's structure, not a running stack.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APPS = ("app1", "app2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def _services(compose: dict[str, Any]) -> dict[str, Any]:
    services: dict[str, Any] = compose["services"]
    return services


def test_the_stack_has_two_apps_a_proxy_postgres_and_redis(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert set(APPS) | {"proxy", "postgres", "redis", "migrate"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert "nginx" in services["proxy"]["image"]
    assert services["migrate"]["build"] == "."
    for name in APPS:
        assert services[name]["image"] == services["migrate"]["image"]


def test_migrations_run_once_before_the_apps(compose: dict[str, Any]) -> None:
    services = _services(compose)
    migrate = services["migrate"]
    assert migrate["command"] == ["everything-app", "migrate"]
    assert "MIGRATION_DATABASE_URL" in migrate["environment"]
    for name in APPS:
        app = services[name]
        assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert app["environment"]["AUTO_MIGRATE"] == "false"
    assert set(services["proxy"]["depends_on"]) == set(APPS)


def test_apps_serve_as_the_unprivileged_login(compose: dict[str, Any]) -> None:
    services = _services(compose)
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    for name in APPS:
        environment = services[name]["environment"]
        url = environment["DATABASE_URL"]
        assert url.startswith("postgresql://everything_app_login:")
        assert not url.startswith(f"postgresql://{owner}:")
        assert "MIGRATION_DATABASE_URL" not in environment
    roles = (ROOT / "deploy/postgres/roles.sql").read_text()
    assert re.search(r"CREATE ROLE everything_app_login LOGIN NOSUPERUSER NOBYPASSRLS", roles)
    assert "IN ROLE everything_app;" in roles


def test_secrets_are_required_never_written_in(compose: dict[str, Any]) -> None:
    text = (ROOT / "compose.yaml").read_text()
    for secret in ("POSTGRES_PASSWORD", "APP_DB_PASSWORD", "REDIS_PASSWORD", "SECRET_KEY"):
        assert f"${{{secret}:?" in text, f"{secret} must be required (${{{secret}:?...}})"
    # Any password in a URL is an interpolation, never a literal.
    for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", text):
        assert password.startswith("${"), password


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name in (*APPS, "proxy", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name


def test_only_the_proxy_is_a_trusted_proxy(compose: dict[str, Any]) -> None:
    services = _services(compose)
    proxy_ip = services["proxy"]["networks"]["frontend"]["ipv4_address"]
    subnet = compose["networks"]["frontend"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_ip) in ipaddress.ip_network(subnet)
    for name in APPS:
        environment = services[name]["environment"]
        assert environment["TRUSTED_PROXIES"] == proxy_ip
        assert environment["BASE_URL"].startswith("${BASE_URL:?")
        assert "TRUSTED_ORIGINS" in environment
    assert "ports" not in services["postgres"]
    assert "ports" not in services["redis"]


def test_nginx_upgrades_websockets_and_does_not_buffer_streams() -> None:
    conf = (ROOT / "deploy/nginx.conf").read_text()
    for name in APPS:
        assert f"server {name}:8000" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    for location in ("/api/realtime", "/api/chat", "/v1/"):
        block = conf.split(f"location {location} {{", 1)[1].split("}", 1)[0]
        assert "proxy_buffering off;" in block, location
    assert "location = /metrics" in conf  # not exposed through the public proxy


def test_jobs_run_on_worker_services_not_in_the_apps(compose: dict[str, Any]) -> None:
    services = _services(compose)
    workers = [name for name in services if name.startswith("worker")]
    assert len(workers) >= 2
    for name in workers:
        assert services[name]["command"] == ["everything-app", "worker"]
        assert services[name]["image"] == services["migrate"]["image"]
        assert services[name]["environment"]["REDIS_URL"].startswith("redis://")
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    for name in APPS:
        assert services[name]["environment"]["JOBS_IN_SERVE"] == "false"


def test_workers_back_up_as_the_read_only_backup_login(compose: dict[str, Any]) -> None:
    services = _services(compose)
    workers = [name for name in services if name.startswith("worker")]
    for name in workers:
        environment = services[name]["environment"]
        url = environment["BACKUP_DATABASE_URL"]
        assert url.startswith("postgresql://everything_app_backup:${BACKUP_DB_PASSWORD:?")
        assert "MIGRATION_DATABASE_URL" not in environment  # never the owner
        assert environment["DATABASE_URL"].startswith("postgresql://everything_app_login:")
        assert environment["BACKUP_DIR"] == "/backups"
        assert "./backups:/backups" in services[name]["volumes"]
    roles = (ROOT / "deploy/postgres/roles.sql").read_text()
    assert re.search(
        r"CREATE ROLE everything_app_backup LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE"
        r"\s+PASSWORD :'backup_password' IN ROLE pg_read_all_data;",
        roles,
    )
    assert (
        'backup_password="$BACKUP_DB_PASSWORD"'
        in (ROOT / "deploy/postgres/init-roles.sh").read_text()
    )


def test_the_image_builds_the_web_app_into_the_package_before_installing_it() -> None:
    """A node stage runs `npm ci` and `npm run build` in web/; its output is copied into the
    package's webapp/static before `pip install`, so the wheel (package-data) carries it."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\S+)$", dockerfile, flags=re.MULTILINE)
    assert stages[0] == ("node:20-slim", "web")
    web_stage = dockerfile.split("FROM python")[0]
    assert "npm ci" in web_stage
    assert web_stage.index("npm ci") < web_stage.index("npm run build")
    copy = (
        "COPY --from=web /build/src/everything_app/webapp/static ./src/everything_app/webapp/static"
    )
    assert copy in dockerfile
    assert dockerfile.index(copy) < dockerfile.index(
        "pip install --no-cache-dir -c requirements.lock ."
    )
    assert "src/everything_app/webapp/static" in (ROOT / ".dockerignore").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"webapp/static/**/*"' in pyproject
