"""examples/replicas: the files lint clean, the config loads, `replicas-up` really comes up.

The compose file and the Kubernetes manifests are not run here; their structure is
checked with check-jsonschema (a pinned dev dependency): the compose file against the
Compose specification it bundles, the manifests against tests/data/replicas/
k8s-manifest.schema.json.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from gwtest.procs import ROOT, free_port
from gwtest.raw import open_session
from gwtest.services import POSTGRES_URL, REDIS_URL, scratch_prefix, scratch_schema
from mcpwarden.config import load_config

EXAMPLES = ROOT / "examples" / "replicas"
CHECK = str(Path(sys.executable).parent / "check-jsonschema")
K8S_SCHEMA = ROOT / "tests" / "data" / "replicas" / "k8s-manifest.schema.json"


def check_jsonschema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHECK, *args], capture_output=True, text=True, timeout=120)


def test_compose_file_follows_the_compose_specification() -> None:
    done = check_jsonschema("--builtin-schema", "vendor.compose-spec", str(EXAMPLES / "compose.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("manifest", sorted((EXAMPLES / "k8s").glob("*.yaml")), ids=lambda p: p.name)
def test_kubernetes_manifest_has_the_expected_structure(manifest: Path) -> None:
    done = check_jsonschema("--schemafile", str(K8S_SCHEMA), str(manifest))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_manifest_schema_rejects_a_misspelt_probe(tmp_path: Path) -> None:
    broken = (EXAMPLES / "k8s" / "deployment.yaml").read_text().replace("readinessProbe", "readynessProbe")
    (tmp_path / "deployment.yaml").write_text(broken)
    assert (
        check_jsonschema("--schemafile", str(K8S_SCHEMA), str(tmp_path / "deployment.yaml")).returncode == 1
    )


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
