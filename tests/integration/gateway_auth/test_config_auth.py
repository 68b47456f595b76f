"""The `auth:`, `public_url` and `credentials:` parts of the gateway config, and the
sessions table the CLI revokes through (no processes started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.cli import main
from mcpwarden.config import ConfigError, load_config, parse_config
from mcpwarden.gateway.session_registry import SessionRegistry, session_handle
from mcpwarden.types import Principal

ISSUER = "https://idp.example.test"


def _http(**extra: object) -> dict[str, object]:
    return {"transport": "http", "url": "https://up.example.test/mcp", **extra}


def test_absent_auth_section_means_anonymous_mode() -> None:
    assert parse_config({}).auth is None


def test_auth_section_is_the_library_auth_config() -> None:
    config = parse_config({"auth": {"issuer": ISSUER, "required_scopes": ["mcp:tools"]}})
    assert config.auth is not None and config.auth.required_scopes == ["mcp:tools"]


def test_auth_section_refuses_symmetric_algorithms() -> None:
    with pytest.raises(ConfigError, match="algorithms"):
        parse_config({"auth": {"issuer": ISSUER, "algorithms": ["HS256"]}})


def test_http_upstream_credentials_default_to_none() -> None:
    config = parse_config({"upstreams": {"up": _http()}})
    assert config.upstreams["up"].credentials.mode == "none"  # type: ignore[union-attr]


def test_inline_upstream_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="references"):
        parse_config({"upstreams": {"up": _http(credentials={"mode": "bearer", "token": "hunter2"})}})


def test_stdio_upstream_cannot_be_given_token_credentials() -> None:
    stdio = {"transport": "stdio", "command": "server", "credentials": {"mode": "bearer", "token": "env:T"}}
    with pytest.raises(ConfigError, match="credentials"):
        parse_config({"upstreams": {"up": stdio}})


def test_public_url_defaults_to_the_listen_address() -> None:
    assert parse_config({"listen": {"port": 9000}}).public_base() == "http://127.0.0.1:9000"


def test_public_url_is_normalized_to_lowercase_origin() -> None:
    assert parse_config({"public_url": "HTTPS://GW.Example.TEST/"}).public_base() == "https://gw.example.test"


def test_public_url_with_a_path_is_refused() -> None:
    with pytest.raises(ConfigError, match="public_url"):
        parse_config({"public_url": "https://gw.example.test/prefix"})


def test_issuer_is_read_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("auth:\n  issuer: ${MCPW_TEST_ISSUER:-https://default.example.test}\n")
    monkeypatch.setenv("MCPW_TEST_ISSUER", ISSUER)
    assert load_config(path).auth.issuer == ISSUER  # type: ignore[union-attr]


def test_issuer_falls_back_to_the_documented_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("auth:\n  issuer: ${MCPW_TEST_ISSUER:-https://default.example.test}\n")
    monkeypatch.delenv("MCPW_TEST_ISSUER", raising=False)
    assert load_config(path).auth.issuer == "https://default.example.test"  # type: ignore[union-attr]


def test_environment_is_not_expanded_in_upstream_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("upstreams:\n  up:\n    transport: stdio\n    command: ${MCPW_TEST_CMD:-server}\n")
    monkeypatch.setenv("MCPW_TEST_CMD", "/tmp/evil")
    assert load_config(path).upstreams["up"].command == "${MCPW_TEST_CMD:-server}"  # type: ignore[union-attr]


def test_unset_variable_without_default_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("auth:\n  issuer: ${MCPW_TEST_ISSUER}\n")
    monkeypatch.delenv("MCPW_TEST_ISSUER", raising=False)
    with pytest.raises(ConfigError, match="MCPW_TEST_ISSUER"):
        load_config(path)


def test_example_config_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPWARDEN_ISSUER", ISSUER)
    example = Path(__file__).resolve().parents[3] / "examples" / "oauth-gateway.yaml"
    config = load_config(example)
    assert config.auth is not None and config.auth.issuer == ISSUER and config.policy


def test_revocation_is_seen_by_the_gateway_connection_only_once(tmp_path: Path) -> None:
    gateway = SessionRegistry(tmp_path / "s.db")
    gateway.add("sid-1", Principal(subject="alice", issuer=ISSUER), "/mcp", ["a"])
    cli = SessionRegistry(tmp_path / "s.db")
    assert [r.handle for r in cli.revoke(by="ops", subject="alice")] == [session_handle("sid-1")]
    assert gateway.revoked_since_last_poll() == [session_handle("sid-1")]
    assert gateway.revoked_since_last_poll() == []


def test_revoke_by_short_prefix_is_refused(tmp_path: Path) -> None:
    registry = SessionRegistry(tmp_path / "s.db")
    registry.add("sid-1", Principal(subject="alice"), "/mcp", ["a"])
    assert registry.revoke(by="ops", handle=session_handle("sid-1")[:4]) == []


def test_revoke_by_full_session_id_works(tmp_path: Path) -> None:
    registry = SessionRegistry(tmp_path / "s.db")
    registry.add("sid-1", Principal(subject="alice"), "/mcp", ["a"])
    assert len(registry.revoke(by="ops", handle="sid-1")) == 1


def test_sessions_revoke_needs_an_id_or_a_subject(tmp_path: Path) -> None:
    assert main(["sessions", "revoke", "--store", str(tmp_path / "s.db")]) == 2
