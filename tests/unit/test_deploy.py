"""The deployment as code, checked here since neither terraform nor docker runs on this machine:
every ``.tf`` parses (python-hcl2) and is wired as the architecture says; the Dockerfile has the
structure the image needs. ``checkov`` runs over both in CI (.ci/run)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "deploy" / "terraform"
MODULES = ["network", "database", "cache", "secrets", "tasks", "iam", "run", "edge", "monitoring"]


def clean(value: Any) -> Any:
    """python-hcl2's tree with literal quotes and its bookkeeping keys removed."""
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def load(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return clean(hcl2.load(handle))  # type: ignore[no-any-return]


def module(name: str) -> dict[str, list[Any]]:
    """Every top-level block of a module's files, by kind."""
    merged: dict[str, list[Any]] = {}
    for path in sorted((TERRAFORM / "modules" / name).glob("*.tf")):
        for kind, blocks in load(path).items():
            merged.setdefault(kind, []).extend(blocks)
    return merged


def resources(name: str, kind: str) -> dict[str, dict[str, Any]]:
    return {n: body for block in module(name).get("resource", []) for k, v in block.items() if k == kind
            for n, body in v.items()}  # fmt: skip


def block(body: dict[str, Any], name: str) -> dict[str, Any]:
    (inner,) = body[name]
    return inner  # type: ignore[no-any-return]


ENV = load(TERRAFORM / "environments" / "example" / "main.tf")
CALLS = {name: body for m in ENV["module"] for name, body in m.items()}


def test_every_tf_file_parses_and_every_module_is_complete() -> None:
    files = sorted(TERRAFORM.rglob("*.tf"))
    assert len(files) >= 30
    for path in files:
        load(path)
    for name in MODULES:
        present = {p.name for p in (TERRAFORM / "modules" / name).glob("*.tf")}
        assert {"main.tf", "variables.tf", "outputs.tf"} <= present, name
        for variable in module(name).get("variable", []):
            for var_name, body in variable.items():
                assert body.get("description"), f"{name}.{var_name} has no description"
    assert set(CALLS) == set(MODULES)
    for name, call in CALLS.items():
        assert call["source"] == f"../../modules/{name}"


def test_every_module_input_is_declared_and_every_required_one_given() -> None:
    for name, call in CALLS.items():
        declared = {v: body for var in module(name).get("variable", []) for v, body in var.items()}
        given = set(call) - {"source"}
        assert given <= set(declared), f"{name}: unknown inputs {given - set(declared)}"
        required = {v for v, body in declared.items() if "default" not in body}
        assert required <= given, f"{name}: missing {required - given}"


def test_services_read_their_settings_from_the_other_modules() -> None:
    run = CALLS["run"]
    assert run["secret_ids"] == "${module.secrets.secret_ids}"
    assert run["queue_path"] == "${module.tasks.queue_path}"
    assert run["connector_id"] == "${module.network.connector_id}"
    assert run["service_accounts"] == "${module.iam.emails}"
    secrets = CALLS["secrets"]
    assert secrets["database_url"] == "${module.database.database_url}"
    assert secrets["redis_url"] == "${module.cache.redis_url}"
    assert CALLS["database"]["network_id"] == CALLS["cache"]["network_id"] == "${module.network.network_id}"
    assert CALLS["edge"]["services"] == {"api": '${module.run.service_names["api"]}',
                                         "realtime": '${module.run.service_names["realtime"]}'}  # fmt: skip
    assert CALLS["monitoring"]["api_service"] == '${module.run.service_names["api"]}'
    run_locals = {k: v for block_ in module("run")["locals"] for k, v in block_.items()}
    env = run_locals["plain_env"]
    assert env["VALORIZE_CLOUD_TASKS_QUEUE"] == "${var.queue_path}"
    assert env["VALORIZE_TASK_QUEUE"] == "cloudtasks"
    assert env["VALORIZE_CLOUD_TASKS_SERVICE_ACCOUNT"] == '${var.service_accounts["tasks"]}'
    assert env["VALORIZE_WORKER_URL"] == "${local.worker_url}"
    # every setting the services get is one Valorize knows
    from valorize_entrypoints.settings import Settings

    known = {f"VALORIZE_{name.upper()}" for name in Settings.__dataclass_fields__}
    assert set(env) | set(run_locals["secret_env"]) <= known


def test_the_worker_is_internal_and_only_the_tasks_identity_may_call_it() -> None:
    run_locals = {k: v for block_ in module("run")["locals"] for k, v in block_.items()}
    services = run_locals["services"]
    assert services["worker"]["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    assert services["api"]["ingress"] == services["realtime"]["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    public = resources("run", "google_cloud_run_v2_service_iam_member")
    assert public["public"]["for_each"] == '${toset(["api", "realtime"])}'
    worker = public["worker_invoker"]
    assert worker["member"] == 'serviceAccount:${var.service_accounts["tasks"]}'
    assert worker["role"] == "roles/run.invoker"
    realtime = services["realtime"]
    assert realtime["affinity"] is True
    assert realtime["timeout"] == "3600s"
    assert realtime["min"] == "${var.realtime_min_instances}"
    variables = {v: body for var in module("run")["variable"] for v, body in var.items()}
    assert variables["realtime_min_instances"]["default"] >= 1


def test_cloud_scheduler_asks_the_worker_to_post_due_schedules_as_the_tasks_identity() -> None:
    job = resources("run", "google_cloud_scheduler_job")["schedules"]
    target = block(job, "http_target")
    assert target["http_method"] == "POST"
    assert target["uri"] == "${local.worker_url}/schedules/tick"
    token = block(target, "oidc_token")
    assert token["service_account_email"] == '${var.service_accounts["tasks"]}'
    assert token["audience"] == "${local.worker_url}"
    assert job["schedule"] == "${var.schedule_tick_cron}"


def test_secrets_never_travel_as_plain_values() -> None:
    run_locals = {k: v for block_ in module("run")["locals"] for k, v in block_.items()}
    for name in run_locals["plain_env"]:
        assert not re.search(r"SECRET|PASSWORD|DATABASE_URL|REDIS_URL", name), name
    assert set(run_locals["secret_env"]) == {"VALORIZE_DATABASE_URL", "VALORIZE_REDIS_URL", "VALORIZE_PUSHER_SECRET"}
    service = resources("run", "google_cloud_run_v2_service")["service"]
    container = block(block(service, "template"), "containers")
    dynamic_envs = [d["env"] for d in container["dynamic"]]
    secret_env = next(e for e in dynamic_envs if "value_source" in block(e, "content"))
    ref = block(block(block(secret_env, "content"), "value_source"), "secret_key_ref")
    assert ref["secret"] == "${var.secret_ids[local.secret_env[env.value]]}"
    for path in TERRAFORM.rglob("*.tf"):
        for variable in load(path).get("variable", []):
            for name, body in variable.items():
                if re.search(r"password|secret(?!_ids)|_url$|token", name):
                    assert body.get("sensitive") is True, f"{path.name}: {name} must be sensitive"
                    assert "default" not in body, f"{path.name}: {name} must not have a default"
    example = (TERRAFORM / "environments" / "example" / "terraform.tfvars.example").read_text()
    settings = [line for line in example.splitlines() if line.strip() and not line.startswith("#")]
    assert not re.search(r"(?i)password|secret|postgres(ql)?://|redis://", "\n".join(settings))


def test_database_cache_and_queue_settings() -> None:
    sql = resources("database", "google_sql_database_instance")["main"]
    assert sql["database_version"] == "POSTGRES_16"
    settings = block(sql, "settings")
    ip = block(settings, "ip_configuration")
    assert ip["ipv4_enabled"] is False
    assert ip["private_network"] == "${var.network_id}"
    backups = block(settings, "backup_configuration")
    assert backups["enabled"] is True
    assert backups["point_in_time_recovery_enabled"] is True
    redis = resources("cache", "google_redis_instance")["main"]
    assert redis["auth_enabled"] is True
    assert redis["transit_encryption_mode"] == "SERVER_AUTHENTICATION"
    # cached reads carry TTLs; version counters and sequence numbers must never be evicted
    assert redis["redis_configs"]["maxmemory-policy"] == "volatile-lru"
    queue = resources("tasks", "google_cloud_tasks_queue")["tasks"]
    retry = block(queue, "retry_config")
    # the dispatchers' policy (valorize_core.ports.task_queue.RetryPolicy)
    from valorize_core.ports.task_queue import RetryPolicy

    assert retry["max_attempts"] == RetryPolicy().max_attempts
    assert retry["max_backoff"] == f"{int(RetryPolicy().max_backoff)}s"


def test_edge_monitoring_and_iam() -> None:
    api = resources("edge", "google_compute_backend_service")["api"]
    assert api["enable_cdn"] is True
    assert api["security_policy"] == "${google_compute_security_policy.armor.id}"
    url_map = resources("edge", "google_compute_url_map")["https"]
    rule = block(block(url_map, "path_matcher"), "path_rule")
    assert rule["paths"] == ["/app/*"]
    assert rule["service"] == "${google_compute_backend_service.realtime.id}"
    slos = resources("monitoring", "google_monitoring_slo")
    assert slos["latency"]["goal"] == 0.95
    assert block(block(block(slos["latency"], "request_based_sli"), "distribution_cut"), "range")["max"] == 300
    assert slos["errors"]["goal"] == slos["availability"]["goal"] == 0.995
    alerts = resources("monitoring", "google_monitoring_alert_policy")["burn"]
    assert "select_slo_burn_rate" in block(block(alerts, "conditions"), "condition_threshold")["filter"]
    # no project-level grants anywhere: every binding is on one resource
    for name in MODULES:
        for kind in ("google_project_iam_member", "google_project_iam_binding", "google_project_iam_policy"):
            assert not resources(name, kind), f"{name} grants {kind}"


DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_the_dockerfile_builds_wheels_then_runs_as_a_non_root_user() -> None:
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", DOCKERFILE, re.M)
    assert [alias for _, alias in stages] == ["builder", "runtime"]
    assert all(image.endswith("-slim") for image, _ in stages)
    builder, runtime = DOCKERFILE.split("FROM python:3.11-slim AS runtime")
    assert "pip wheel" in builder
    assert "--wheel-dir /wheels" in builder
    assert "COPY --from=builder /wheels /wheels" in runtime
    assert "--no-index --find-links /wheels" in runtime
    user = re.findall(r"^USER\s+(\S+)", runtime, re.M)
    assert user
    assert user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", runtime, re.M)
    assert re.search(r'^ENTRYPOINT \["valorize"\]', runtime, re.M)
    assert re.search(r'^CMD \["api"\]', runtime, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".git", ".venv", "tests", "node_modules"):
        assert path in ignored


@pytest.mark.parametrize("role", ["api", "worker", "realtime", "migrate"])
def test_every_role_the_image_runs_is_a_cli_command(role: str) -> None:
    from valorize_entrypoints.cli import main

    assert role in main.commands  # type: ignore[attr-defined]


def test_every_service_that_enqueues_may_enqueue_as_the_tasks_identity() -> None:
    """The API and the worker enqueue tasks, and the realtime service its Pusher webhooks: each
    must be an enqueuer of the queue and able to act as the tasks account (Cloud Tasks checks both)."""
    enqueuers = CALLS["tasks"]["enqueuers"]
    acting = resources("iam", "google_service_account_iam_member")["act_as_tasks"]["for_each"]
    for role in ("api", "worker", "realtime"):
        assert f'${{module.iam.members["{role}"]}}' in enqueuers, (role, enqueuers)
        assert role in acting, (role, acting)
    run_locals = {k: v for block_ in module("run")["locals"] for k, v in block_.items()}
    assert "VALORIZE_PUSHER_WEBHOOK_URLS" in run_locals["plain_env"]
    assert CALLS["run"]["pusher_webhook_urls"] == "${var.pusher_webhook_urls}"
