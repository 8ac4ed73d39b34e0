"""The deployment files say what docs/deploy.md promises (offline: no podman, no cloud).

The image itself is built and run by infra/smoke/run.sh in CI; these tests keep the compose
file, the Dockerfile, the entrypoint and the Terraform honest on any machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
APP_SERVICES = ("web-1", "web-2", "worker", "beat", "capture", "migrate")
CONTRACT = (
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "FINPULSE_STORAGE_BUCKET",
    "FINPULSE_STORAGE_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
)


def compose() -> dict:
    return yaml.safe_load((INFRA / "compose.yaml").read_text())


def test_compose_runs_the_whole_stack_from_one_image() -> None:
    services = compose()["services"]
    for name in (
        *APP_SERVICES,
        "proxy",
        "postgres-primary",
        "postgres-replica",
        "pgbouncer",
        "redis",
        "rabbitmq",
        "minio",
        "mailpit",
    ):
        assert name in services, name
    images = {services[name]["image"] for name in APP_SERVICES}
    assert images == {"localhost/finpulse:local"}
    assert {services[name]["build"]["dockerfile"] for name in APP_SERVICES} == {"infra/Dockerfile"}
    commands = [services[name]["command"] for name in APP_SERVICES]
    assert commands == [["web"], ["web"], ["worker"], ["beat"], ["capture"], ["migrate"]]


def test_compose_app_services_get_the_shared_environment_contract() -> None:
    services = compose()["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        missing = [key for key in CONTRACT if key not in env]
        assert not missing, (name, missing)
    web = services["web-1"]["environment"]
    assert web["DATABASE_URL"].startswith("postgres://") and "@pgbouncer:6432/" in web["DATABASE_URL"]
    assert "@pgbouncer:6432/finpulse_replica" in web["DATABASE_REPLICA_URL"]
    assert web["DATABASE_TRANSACTION_POOLING"] == "true"
    # Migrations, workers and beat use session features: straight to the servers, no pooler.
    for name in ("migrate", "worker", "beat", "capture"):
        env = services[name]["environment"]
        assert "@postgres-primary:5432/" in env["DATABASE_URL"], name
        assert env["DATABASE_TRANSACTION_POOLING"] == "false", name


def test_compose_starts_app_containers_only_after_migrate_succeeded() -> None:
    services = compose()["services"]
    for name in ("web-1", "web-2", "worker", "beat", "capture"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["beat"]["deploy"]["replicas"] == 1


def test_proxy_balances_both_web_replicas() -> None:
    conf = (INFRA / "compose" / "nginx.conf").read_text()
    assert re.findall(r"server (web-\d):8000", conf) == ["web-1", "web-2"]


def test_pgbouncer_pools_transactions_for_primary_and_replica() -> None:
    ini = (INFRA / "compose" / "pgbouncer.ini").read_text()
    assert re.search(r"^pool_mode = transaction$", ini, re.M)
    assert "host=postgres-primary" in ini and "host=postgres-replica" in ini


def test_dockerfile_final_stage_is_non_root_without_compilers() -> None:
    text = (INFRA / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert [stage.split()[0] for stage in stages] == ["debian:bookworm-slim", "debian:bookworm-slim"]
    final = stages[-1]
    assert "build-essential" not in final and "gcc" not in final and "-dev" not in final
    assert re.search(r"^USER 10001", final, re.M)
    assert "HEALTHCHECK" in final and "collectstatic" in stages[0]
    assert "ARG PIP_CERT" in stages[0] and "PIP_CERT" not in final


def entrypoint_urls(**env: str) -> dict[str, str]:
    """Run the entrypoint's URL assembly (its embedded Python) with this environment."""
    script = (INFRA / "entrypoint.sh").read_text()
    code = re.search(r"python3 - <<'PY'\n(.*?)\nPY\n", script, re.S).group(1)
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(re.findall(r"^export (\w+)='?(.*?)'?$", result.stdout, re.M))


def test_entrypoint_builds_urls_from_ecs_secrets_with_quoted_passwords() -> None:
    urls = entrypoint_urls(
        DATABASE_HOST="db.internal",
        DATABASE_USER="finpulse",
        DATABASE_PASSWORD="p@ss/w:rd",
        DATABASE_REPLICA_HOST="replica.internal",
        DATABASE_SSLMODE="require",
        REDIS_HOST="redis.internal",
        REDIS_AUTH_TOKEN="tok",
        MQ_ENDPOINT="amqps://b-1.mq.internal:5671",
        MQ_USER="finpulse",
        MQ_PASSWORD="m/q",
    )
    assert urls == {
        "DATABASE_URL": "postgres://finpulse:p%40ss%2Fw%3Ard@db.internal:5432/finpulse?sslmode=require",
        "DATABASE_REPLICA_URL": "postgres://finpulse:p%40ss%2Fw%3Ard@replica.internal:5432/finpulse?sslmode=require",
        "REDIS_URL": "rediss://:tok@redis.internal:6379/0",
        "CELERY_BROKER_URL": "amqps://finpulse:m%2Fq@b-1.mq.internal:5671//",
    }


def test_entrypoint_keeps_urls_that_are_already_set() -> None:
    assert entrypoint_urls(DATABASE_URL="postgres://x@h/db", DATABASE_HOST="ignored") == {}


def test_terraform_runs_exactly_one_beat_and_scales_web_on_cpu_and_requests() -> None:
    ecs = (INFRA / "terraform" / "ecs.tf").read_text()
    beat = re.search(r'resource "aws_ecs_service" "beat" \{(.*?)\n\}', ecs, re.S).group(1)
    assert re.search(r"desired_count\s+= var.services_enabled \? 1 : 0\n", beat)
    assert re.search(r"deployment_maximum_percent\s+= 100\b", beat)
    assert re.search(r"deployment_minimum_healthy_percent\s+= 0\b", beat)
    assert "ECSServiceAverageCPUUtilization" in ecs and "ALBRequestCountPerTarget" in ecs


def test_terraform_protects_the_data() -> None:
    tf = "\n".join(path.read_text() for path in (INFRA / "terraform").glob("*.tf"))
    assert re.search(r'mode = "COMPLIANCE"', tf)
    assert tf.count("deletion_protection                 = true") == 2
    assert "multi_az                            = true" in tf
    assert "enable_key_rotation     = true" in tf
    for env in ("staging", "production"):
        assert (INFRA / "terraform" / "envs" / f"{env}.tfvars").exists()


def test_the_data_keys_live_on_a_volume_of_their_own_that_nothing_backs_up() -> None:
    """docs/security.md: the key folder is mounted by every app container and never backed up."""
    services = compose()["services"]
    for name in APP_SERVICES:
        assert services[name]["environment"]["FINPULSE_DATA_KEY_STORE"] == "directory", name
        assert services[name]["environment"]["FINPULSE_DATA_KEY_DIR"] == "/app/var/data-keys", name
        assert "data-keys:/app/var/data-keys" in services[name]["volumes"], name
    assert "data-keys" in compose()["volumes"]
    assert "/app/var/data-keys" in (INFRA / "Dockerfile").read_text()  # owned by the app user, 0700

    terraform = INFRA / "terraform"
    keys = (terraform / "data_keys.tf").read_text()
    assert re.search(r'resource "aws_efs_backup_policy" "data_keys" \{.*?status = "DISABLED"', keys, re.S)
    assert "encrypted        = true" in keys
    everything = "\n".join(path.read_text() for path in terraform.glob("*.tf"))
    assert "aws_backup_selection" not in everything and "aws_efs_replication_configuration" not in everything
    ecs = (terraform / "ecs.tf").read_text()
    assert 'FINPULSE_DATA_KEY_STORE      = "directory"' in ecs
    assert "file_system_id     = aws_efs_file_system.data_keys.id" in ecs
    assert 'sourceVolume = "data-keys", containerPath = local.data_key_dir' in ecs


def _healthcheck() -> Any:  # the container's script, loaded as a module
    import importlib.util

    spec = importlib.util.spec_from_file_location("container_healthcheck", INFRA / "healthcheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_health_check_knows_the_role_under_an_init_process_too() -> None:
    # ECS runs the tasks with initProcessEnabled: PID 1 is then the init, not gunicorn, and a
    # web task whose gunicorn stopped answering must still fail its check.
    role_of = _healthcheck().role_of
    cases = {
        (b"/app/.venv/bin/python", b"/app/.venv/bin/gunicorn", b"finpulse.wsgi:application", b"-c"): "web",
        (b"/sbin/docker-init", b"--", b"/app/infra/entrypoint.sh", b"web"): "web",
        (b"/sbin/docker-init", b"--", b"/app/infra/entrypoint.sh", b"capture"): "capture",
        (b"python", b"manage.py", b"run_email_capture"): "capture",
        (b"/sbin/docker-init", b"--", b"/app/infra/entrypoint.sh", b"worker"): "other",
        (b"/app/.venv/bin/python", b"/app/.venv/bin/celery", b"-A", b"finpulse", b"beat"): "other",
    }
    assert {args: role_of([*args, b""]) for args in cases} == cases
