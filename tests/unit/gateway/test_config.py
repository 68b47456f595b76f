"""The typed config: safe defaults, clear errors, and the schema editors use."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.cli import main
from mcpwarden.config import ConfigError, GatewayConfig, StdioUpstream, load_config, parse_config


def test_defaults_bind_loopback_with_host_and_origin_checks() -> None:
    cfg = GatewayConfig()
    assert cfg.listen.host == "127.0.0.1" and cfg.listen.is_loopback()
    assert "localhost:*" in cfg.security.allowed_hosts
    assert cfg.security.max_body_bytes == 4 * 1024 * 1024


def test_stdio_child_environment_is_only_the_allow_list() -> None:
    up = StdioUpstream(command="x", env={"A": "1"}, env_passthrough=["HOME", "MISSING"])
    assert up.child_environment({"HOME": "/h", "SECRET": "s", "PATH": "/bin"}) == {"HOME": "/h", "A": "1"}


@pytest.mark.parametrize("name", ["Bad", "with_underscore", "a+b", "1st", "x" * 60])
def test_upstream_names_that_would_break_naming_are_rejected(name: str) -> None:
    with pytest.raises(ConfigError, match="upstream name"):
        parse_config({"upstreams": {name: {"transport": "stdio", "command": "x"}}})


def test_unknown_keys_are_errors_naming_the_location_as_written() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"upstreams": {"a": {"transport": "stdio", "comand": "x"}}}, source="c.yaml")
    assert str(caught.value) == "c.yaml: upstreams.a.comand: unknown key 'comand'; did you mean 'command'?"


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("audit: {path: logs/a.jsonl}\nupstreams: {}\n")
    cfg = load_config(tmp_path / "c.yaml")
    assert cfg.audit.path == str(tmp_path / "logs/a.jsonl")


def test_config_schema_command_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "upstreams" in schema["properties"]


def test_config_check_reports_bad_file_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("upstreams: [1, 2]\n")
    assert main(["config", "check", str(bad)]) == 2
    assert f"{bad}: upstreams: input should be a valid dictionary" in capsys.readouterr().err


def test_serve_refuses_non_loopback_bind_without_auth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("listen: {host: 0.0.0.0}\nupstreams: {}\n")
    assert main(["serve", "-c", str(cfg)]) == 2
    assert "refusing to listen" in capsys.readouterr().err
