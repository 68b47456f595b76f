"""`config check` finds every file, secret and command `serve` would open, in every section of
the config (found by walking the config model, not from a list), and says in one sentence per
problem: the config file, the key path as written, and what was expected there. `serve`
refuses to start with the same sentences."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gwtest.procs import PYTHON, free_port

pytestmark = pytest.mark.integration


def mcpwarden(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "mcpwarden", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
    )  # fmt: skip


def config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(
        f"listen: {{port: {free_port()}}}\n"
        f"store: {{path: {tmp_path / 'store.sqlite3'}}}\n"
        "upstreams:\n  notes: {transport: stdio, command: ls}\n" + body
    )
    return path


def test_a_checkpoint_key_that_is_not_a_private_key_is_named_and_refused_by_serve(tmp_path: Path) -> None:
    assert mcpwarden("audit", "keygen", str(tmp_path / "ckpt")).returncode == 0
    cfg = config(
        tmp_path,
        f"audit:\n  path: {tmp_path / 'a.jsonl'}\n  checkpoint: {{key: 'file:{tmp_path}/ckpt.pub'}}\n",
    )

    check = mcpwarden("config", "check", str(cfg))

    assert check.returncode == 2
    assert check.stderr.splitlines() == [
        f"mcpwarden: error: {cfg}: audit.checkpoint.key: the secret in file:{tmp_path}/ckpt.pub is not an "
        "Ed25519 private key (PEM, `mcpwarden audit keygen` writes one): the checkpoint key is not a PEM "
        "private key: Valid PEM but no BEGIN/END delimiters for a private key found"
    ]
    serve = mcpwarden("serve", "-c", str(cfg))
    assert serve.returncode == 2 and serve.stderr == check.stderr


def test_a_generated_checkpoint_key_passes(tmp_path: Path) -> None:
    assert mcpwarden("audit", "keygen", str(tmp_path / "ckpt")).returncode == 0
    cfg = config(
        tmp_path, f"audit:\n  path: {tmp_path / 'a.jsonl'}\n  checkpoint: {{key: 'file:{tmp_path}/ckpt'}}\n"
    )

    check = mcpwarden("config", "check", str(cfg))

    assert check.returncode == 0, check.stderr


def test_secrets_and_files_of_every_section_are_checked(tmp_path: Path) -> None:
    (tmp_path / "empty-token").write_text("\n")
    cfg = config(
        tmp_path,
        f"audit:\n  path: {tmp_path / 'a.jsonl'}\n  sinks:\n"
        "    - {type: syslog, transport: tls, ca_file: /no/such/ca.pem}\n"
        "    - {type: webhook, url: 'https://audit.example/in', bearer_token: 'env:MCPWARDEN_TEST_UNSET'}\n"
        f"admin: {{token: 'file:{tmp_path}/empty-token'}}\n"
        "auth:\n  issuer: https://id.example\n  jwks_uri: https://id.example/jwks\n"
        "  introspection: {client_id: gw, client_secret: 'file:/no/such/secret'}\n",
    )

    del_env = {k: v for k, v in os.environ.items() if k != "MCPWARDEN_TEST_UNSET"}
    check = subprocess.run(
        [PYTHON, "-m", "mcpwarden", "config", "check", str(cfg)],
        capture_output=True, text=True, timeout=120, env=del_env,
    )  # fmt: skip

    assert check.returncode == 2
    assert check.stderr.splitlines() == [
        f"mcpwarden: error: {cfg}: auth.introspection.client_secret: secret file /no/such/secret does not "
        "exist; expected a non-empty secret",
        f"{cfg}: audit.sinks[0].ca_file: file /no/such/ca.pem does not exist; expected a readable file",
        f"{cfg}: audit.sinks[1].bearer_token: environment variable MCPWARDEN_TEST_UNSET is not set; "
        "expected a non-empty secret in it",
        f"{cfg}: admin.token: secret 'file:{tmp_path}/empty-token' is empty; expected a non-empty secret",
    ]


def test_a_stdio_cwd_that_is_not_a_folder_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "gateway.yaml"
    cfg.write_text(
        f"listen: {{port: {free_port()}}}\nstore: {{path: {tmp_path / 's.sqlite3'}}}\naudit: {{path: null}}\n"
        "upstreams:\n  notes: {transport: stdio, command: ls, cwd: missing-dir}\n"
    )

    check = mcpwarden("config", "check", str(cfg))

    assert check.returncode == 2
    assert check.stderr.strip() == (
        f"mcpwarden: error: {cfg}: upstreams.notes.cwd: folder {tmp_path / 'missing-dir'} does not exist; "
        "expected an existing folder"
    )


def caps_config(tmp_path: Path, caps: str) -> Path:
    cfg = tmp_path / "gateway.yaml"
    cfg.write_text(
        f"listen: {{port: {free_port()}}}\nstore: {{path: {tmp_path / 's.sqlite3'}}}\naudit: {{path: null}}\n"
        f"{caps}upstreams:\n  notes: {{transport: stdio, command: ls}}\n"
    )
    return cfg


def test_both_per_principal_caps_set_is_a_warning_naming_the_one_that_applies(tmp_path: Path) -> None:
    cfg = caps_config(
        tmp_path, "sessions: {max_in_flight_per_principal: 100}\nlimits: {max_concurrent_per_principal: 20}\n"
    )

    check = mcpwarden("config", "check", str(cfg))

    assert check.returncode == 0 and check.stdout.strip().endswith("ok (1 upstreams)")
    assert check.stderr.splitlines() == [
        f"{cfg}: limits.max_concurrent_per_principal: warning: 20 and sessions.max_in_flight_per_principal "
        "100 both cap one principal's requests in flight, so only the lower one applies: "
        "limits.max_concurrent_per_principal (-32003 concurrency.principal); set just one of them "
        '(see docs/configuration.md, "Two per-principal caps")'
    ]


def test_a_concurrency_cap_above_the_default_in_flight_cap_is_a_warning(tmp_path: Path) -> None:
    cfg = caps_config(tmp_path, "limits: {max_concurrent_per_principal: 500}\n")

    check = mcpwarden("config", "check", str(cfg))

    assert check.returncode == 0
    assert "sessions.max_in_flight_per_principal (default) 256" in check.stderr
    assert "only the lower one applies: sessions.max_in_flight_per_principal (-32005" in check.stderr


def test_one_per_principal_cap_alone_is_no_warning(tmp_path: Path) -> None:
    cfg = caps_config(tmp_path, "limits: {max_concurrent_per_principal: 20}\n")

    check = mcpwarden("config", "check", str(cfg))

    assert check.returncode == 0 and check.stderr == ""
