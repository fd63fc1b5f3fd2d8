"""docker-compose.yml stays valid and wired as intended.

Needs the `docker-compose` command (Debian package docker-compose), not a running Docker
engine: `docker-compose config` only parses, interpolates and validates.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "docker" / ".env.example"
APP_SERVICES = ["web", "worker", "console", "beat"]
SAMPLES = [
    "sample-postgres",
    "sample-mariadb",
    "sample-mongo",
    "sample-redis",
    "sample-minio",
    "sample-gcs",
    "sample-azurite",
]


def compose(*args: str, env_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is missing: install the Debian package (apt-get install -y docker-compose)."
    # Only what a clean shell has: a DBDECK_* or DJANGO_* variable in the developer's
    # environment, or a .env in the checkout, must not make a broken file look valid.
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}}
    with tempfile.TemporaryDirectory() as tmp:
        if env_file is None:
            env_file = Path(tmp, "empty.env")
            env_file.touch()
        argv = [exe, "--project-directory", str(ROOT), "-f", str(COMPOSE), "--env-file", str(env_file), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, check=False)


def rendered() -> dict[str, Any]:
    result = compose("config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_config_passes_in_a_clean_checkout() -> None:
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_compose_config_passes_with_the_example_env_file() -> None:
    result = compose("config", "-q", env_file=ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr


def test_the_stack_has_the_app_its_backing_services_and_the_sample_targets() -> None:
    services = rendered()["services"]
    assert sorted(services) == sorted([*APP_SERVICES, "db", "broker", *SAMPLES])
    assert services["db"]["image"] == "postgres:15" and services["broker"]["image"] == "redis:7"
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["console"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"] == ["celery", "-A", "config", "beat", "-l", "info"]


def queues_of(argv: list[str]) -> set[str]:
    return set(argv[argv.index("-Q") + 1].split(",")) if "-Q" in argv else {"celery"}


def test_every_queue_the_code_sends_tasks_to_has_a_worker_in_compose_and_in_make_run() -> None:
    from django.conf import settings

    from explorer.console.jobs import QUEUE as CONSOLE_QUEUE

    sent = {"celery", CONSOLE_QUEUE} | {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    services = rendered()["services"]
    consumed = set().union(
        *(queues_of(s["command"]) for s in services.values() if s.get("command", [""])[0] == "celery")
    )
    assert sent <= consumed, f"no compose worker for {sent - consumed}"
    embedded = (ROOT / "scripts" / "run-embedded.sh").read_text()
    consumed_here = set().union(*(set(q.split(",")) for q in re.findall(r" -Q ([\w,]+)", embedded)))
    assert sent <= consumed_here, f"no `make run` worker for {sent - consumed_here}"
    # Console sessions are long-lived threads: their worker must not be a process pool.
    assert services["console"]["command"][services["console"]["command"].index("--pool") + 1] == "threads"


def test_every_health_gated_dependency_has_a_health_check() -> None:
    # `config` does not check this; `up` would only fail at start time.
    services = rendered()["services"]
    gated = [
        (name, dep)
        for name, service in services.items()
        for dep, rule in (service.get("depends_on") or {}).items()
        if rule.get("condition") == "service_healthy"
    ]
    assert ("web", "db") in gated and ("web", "broker") in gated and ("worker", "web") in gated
    for name, dep in gated:
        assert "test" in services[dep].get("healthcheck", {}), f"{name} waits for {dep}, which has no health check"


def test_the_app_runs_without_debug_on_postgres_and_redis_with_no_secret_in_the_file() -> None:
    services = rendered()["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["DJANGO_DEBUG"] == "0"
        assert env["DATABASE_URL"].startswith("postgres://dbdeck:") and env["DATABASE_URL"].endswith("@db:5432/dbdeck")
        assert env["CELERY_BROKER_URL"] == "redis://broker:6379/0"
        # Unset secrets stay empty, so the app generates its own instead of using a known one.
        assert env["DJANGO_SECRET_KEY"] == "" and env["DBDECK_FERNET_KEYS"] == ""
        assert "dbdeck-var:/var/lib/dbdeck" in " ".join(services[name]["volumes"])
        denied = env["DBDECK_HOSTS_DENIED"].split(",")
        assert {"db", "broker", "169.254.0.0/16", "127.0.0.0/8"} <= set(denied)


def test_only_web_publishes_a_port_and_dbdecks_own_services_are_not_on_the_targets_network() -> None:
    config = rendered()
    services = config["services"]
    assert [name for name, s in services.items() if s.get("ports")] == ["web"]
    assert services["web"]["ports"][0].startswith("127.0.0.1:8000:8000")
    assert config["networks"]["internal"]["internal"] is True
    for name in ["db", "broker", "beat"]:
        assert list(services[name]["networks"]) == ["internal"]
    for name in SAMPLES:
        assert list(services[name]["networks"]) == ["targets"]
    internal_subnet = config["networks"]["internal"]["ipam"]["config"][0]["subnet"]
    assert internal_subnet in services["web"]["environment"]["DBDECK_HOSTS_DENIED"].split(",")


def test_every_variable_in_the_example_env_file_is_used_by_the_compose_file() -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    listed = {
        line.split("=", 1)[0].strip()
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    assert listed - used == set()
    assert {"DBDECK_DB_PASSWORD", "DJANGO_SECRET_KEY", "DBDECK_FERNET_KEYS", "DJANGO_ALLOWED_HOSTS"} <= listed


def test_the_web_start_script_is_valid_sh() -> None:
    result = subprocess.run(["sh", "-n", str(ROOT / "docker" / "start-web.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
