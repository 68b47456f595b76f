"""examples/replicas: the files lint clean, the config loads, `replicas-up` really comes up.

The compose file and the Kubernetes manifests are not run here. Two linters from the
registries check them (pinned dev dependencies): check-jsonschema validates the compose
file against the Compose specification it bundles, and kubernetes-validate validates each
manifest, strictly (no unknown field), against the Kubernetes API's own OpenAPI schemas.
Each linter is also shown to fail on a broken copy, so a green run means something.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from gwtest.procs import ROOT, free_port
from gwtest.raw import open_session
from gwtest.services import POSTGRES_URL, REDIS_URL, scratch_prefix, scratch_schema
from mcpwarden.config import load_config

EXAMPLES = ROOT / "examples" / "replicas"
BIN = Path(sys.executable).parent
MANIFESTS = sorted((EXAMPLES / "k8s").glob("*.yaml"))


def lint(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, timeout=120)


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return lint("check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(path))


def check_manifest(path: Path) -> subprocess.CompletedProcess[str]:
    return lint("kubernetes-validate", "--strict", "--no-warn", str(path))


def test_compose_file_follows_the_compose_specification() -> None:
    done = check_compose(EXAMPLES / "compose.yaml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compose_linter_rejects_a_misspelt_service_key(tmp_path: Path) -> None:
    broken = (EXAMPLES / "compose.yaml").read_text().replace("stop_grace_period:", "stop_grace_periode:")
    (tmp_path / "compose.yaml").write_text(broken)
    assert check_compose(tmp_path / "compose.yaml").returncode == 1


def test_compose_runs_two_gateways_postgres_redis_and_a_balancer() -> None:
    services = yaml.safe_load((EXAMPLES / "compose.yaml").read_text())["services"]
    assert sorted(services) == ["balancer", "gateway-1", "gateway-2", "postgres", "redis"]
    assert "haproxy" in services["balancer"]["image"]


def test_compose_gateways_keep_one_audit_file_each_on_a_volume() -> None:
    compose = yaml.safe_load((EXAMPLES / "compose.yaml").read_text())
    paths = []
    for name in ("gateway-1", "gateway-2"):
        gateway = compose["services"][name]
        path = gateway["environment"]["MCPWARDEN_AUDIT_PATH"]
        mounts = [v.split(":")[:2] for v in gateway["volumes"]]
        assert any(volume in compose["volumes"] and path.startswith(target) for volume, target in mounts)
        paths.append(path)
    assert len(set(paths)) == 2


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_kubernetes_manifest_validates_against_the_kubernetes_api_schema(manifest: Path) -> None:
    done = check_manifest(manifest)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("good", "bad"),
    [("readinessProbe", "readynessProbe"), ("containerPort: 8771", "containerPort: http-8771")],
    ids=["misspelt-probe", "port-not-a-number"],
)
def test_the_kubernetes_linter_rejects_a_broken_deployment(tmp_path: Path, good: str, bad: str) -> None:
    text = (EXAMPLES / "k8s" / "deployment.yaml").read_text()
    assert good in text
    (tmp_path / "deployment.yaml").write_text(text.replace(good, bad))
    done = check_manifest(tmp_path / "deployment.yaml")
    assert done.returncode == 1 and "did not validate" in done.stdout + done.stderr


def test_the_deployment_probes_readyz_and_healthz_and_outlasts_the_drain() -> None:
    deployment = yaml.safe_load((EXAMPLES / "k8s" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert deployment["spec"]["replicas"] == 2
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    args = container["args"]
    drain = float(args[args.index("--drain-timeout") + 1])
    assert pod["terminationGracePeriodSeconds"] > drain


def test_the_compose_gateways_get_a_stop_grace_period_longer_than_the_drain() -> None:
    gateway = yaml.safe_load((EXAMPLES / "compose.yaml").read_text())["services"]["gateway-1"]
    drain = float(gateway["command"][gateway["command"].index("--drain-timeout") + 1])
    grace = re.fullmatch(r"(\d+)s", gateway["stop_grace_period"])
    assert grace is not None and float(grace.group(1)) > drain


def test_haproxy_example_sticks_sessions_on_the_session_header() -> None:
    lines = [line.split("#")[0].strip() for line in (EXAMPLES / "haproxy.cfg").read_text().splitlines()]
    assert "stick store-response res.hdr(Mcp-Session-Id)" in lines
    assert "stick match req.hdr(Mcp-Session-Id)" in lines
    assert "option httpchk GET /readyz" in lines


def test_example_config_uses_the_local_services_unless_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MCPWARDEN_POSTGRES_URL", "MCPWARDEN_REDIS_URL", "MCPWARDEN_REPLICA_ID"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(EXAMPLES / "gateway.yaml")
    assert (config.store.backend, config.store.url, config.store.redis_url) == (
        "postgres",
        "postgresql://127.0.0.1:5432/test",
        "redis://127.0.0.1:6379/0",
    )
    monkeypatch.setenv("MCPWARDEN_POSTGRES_URL", "postgresql://db.internal:5432/gw")
    monkeypatch.setenv("MCPWARDEN_REPLICA_ID", "blue-1")
    config = load_config(EXAMPLES / "gateway.yaml")
    assert config.store.url == "postgresql://db.internal:5432/gw" and config.replica.id == "blue-1"


@pytest.mark.integration
def test_replicas_up_brings_two_ready_replicas_behind_the_balancer_and_down_stops_them(
    tmp_path: Path,
) -> None:
    ports = [free_port(), free_port(), free_port()]
    launcher = [sys.executable, "-m", "mcpwarden.replicas.launch"]
    state = ["--state-dir", str(tmp_path / "state")]
    with scratch_schema() as schema, scratch_prefix() as prefix:
        env = {
            **os.environ,
            "MCPWARDEN_POSTGRES_URL": POSTGRES_URL,
            "MCPWARDEN_REDIS_URL": REDIS_URL,
            "MCPWARDEN_POSTGRES_SCHEMA": schema,
            "MCPWARDEN_REDIS_PREFIX": prefix,
        }
        up = subprocess.run(
            [*launcher, "up", "--ports", ",".join(map(str, ports)), *state],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
            env=env,
        )
        try:
            assert up.returncode == 0, up.stdout + up.stderr
            lb, r1, r2 = (f"http://127.0.0.1:{p}" for p in ports)
            for replica, rid in ((r1, "r1"), (r2, "r2")):
                ready = httpx.get(f"{replica}/readyz", timeout=10)
                assert ready.status_code == 200 and ready.json()["replica"] == rid
            with httpx.Client(timeout=60) as client:
                assert open_session(client, f"{lb}/mcp")
        finally:
            down = subprocess.run(
                [*launcher, "down", *state], capture_output=True, text=True, timeout=120, cwd=ROOT
            )
        assert down.returncode == 0, down.stderr
        assert not list((tmp_path / "state").glob("*.pid"))
        for port in ports:
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
