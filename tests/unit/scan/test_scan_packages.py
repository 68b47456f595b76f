from __future__ import annotations

import base64

import pytest
from scan_testkit import make_entry

from mcpwarden.scan.analysis import analyze
from mcpwarden.scan.launch import analyze_launch, exe_name, split_script
from mcpwarden.scan.packages import image_ref, parse_npm_spec


def _refs(command: str, args: list[str]) -> list[tuple[str, str, str | None, bool]]:
    return [
        (r.ecosystem, r.name, r.version, r.pinned) for r in analyze(make_entry(command, args)).all_packages
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("@scope/name@1.2.3", ("@scope/name", "1.2.3")),
        ("@scope/name", ("@scope/name", None)),
        ("name@^1.0", ("name", "^1.0")),
        ("name", ("name", None)),
        ("./local/server", None),
        ("/abs/path", None),
        ("https://example.com/pkg.tgz", None),
    ],
)
def test_npm_spec_parsing(spec: str, expected: tuple[str, str | None] | None) -> None:
    assert parse_npm_spec(spec) == expected


def test_npx_package_after_options() -> None:
    assert _refs("npx", ["-y", "--registry", "https://r.example", "@a/b@1.0.0", "--port", "1"]) == [
        ("npm", "@a/b", "1.0.0", True)
    ]


def test_npx_package_option_names_the_package_not_the_binary() -> None:
    assert _refs("npx", ["-y", "-p", "tool-pkg@2.0.0", "tool-bin"]) == [("npm", "tool-pkg", "2.0.0", True)]


def test_npx_range_is_not_a_pin() -> None:
    assert _refs("npx", ["pkg@^1.2.0"]) == [("npm", "pkg", "^1.2.0", False)]


def test_npm_exec_and_pnpm_dlx_are_runners() -> None:
    assert _refs("npm", ["exec", "--yes", "pkg@1.0.0"]) == [("npm", "pkg", "1.0.0", True)]
    assert _refs("pnpm", ["dlx", "pkg"]) == [("npm", "pkg", None, False)]


def test_uvx_plain_equals_and_at_forms() -> None:
    assert _refs("uvx", ["mcp-server-time"]) == [("pypi", "mcp-server-time", None, False)]
    assert _refs("uvx", ["mcp-server-time==1.0.0"]) == [("pypi", "mcp-server-time", "1.0.0", True)]
    assert _refs("uvx", ["mcp-server-time@1.0.0"]) == [("pypi", "mcp-server-time", "1.0.0", True)]
    assert _refs("uvx", ["Mcp_Server.Time>=1.0"]) == [("pypi", "mcp-server-time", ">=1.0", False)]


def test_uvx_from_option_names_the_package() -> None:
    assert _refs("uvx", ["--python", "3.12", "--from", "mcp-server-git==2.0", "mcp-server-git"]) == [
        ("pypi", "mcp-server-git", "2.0", True)
    ]


def test_uv_tool_run_and_pipx_run() -> None:
    assert _refs("uv", ["tool", "run", "pkg==1"]) == [("pypi", "pkg", "1", True)]
    assert _refs("pipx", ["run", "--spec", "pkg==2", "pkg-cli"]) == [("pypi", "pkg", "2", True)]


def test_local_commands_have_no_packages() -> None:
    assert _refs("node", ["/opt/server/index.js"]) == []
    assert _refs("python", ["-m", "my_server"]) == []


def test_docker_image_found_after_value_options() -> None:
    refs = _refs("docker", ["run", "-i", "--rm", "-e", "TOKEN", "-v", "/a:/b", "ghcr.io/o/img:1.2", "--flag"])
    assert refs == [("docker", "ghcr.io/o/img", "1.2", False)]


def test_image_digest_is_a_pin() -> None:
    ref = image_ref("img:1.0@sha256:" + "a" * 64, "args.3", "docker run")
    assert (ref.name, ref.pinned, ref.floating_tag) == ("img", True, False)


def test_registry_port_is_not_a_tag() -> None:
    ref = image_ref("localhost:5000/img", "args.1", "docker run")
    assert (ref.name, ref.version, ref.floating_tag) == ("localhost:5000/img", None, True)


def test_cmd_c_is_seen_through_with_argument_positions() -> None:
    entry = make_entry("cmd", ["/c", "npx", "-y", "pkg@1.0.0"])
    (ref,) = analyze(entry).packages
    assert (ref.name, ref.field) == ("pkg", "args.3")


def test_bash_c_script_is_split_into_commands() -> None:
    launch = analyze_launch("bash", ["-lc", "cd /srv && npx -y pkg@1.0.0"])
    assert [s.argv for s in launch.segments] == [("cd", "/srv"), ("npx", "-y", "pkg@1.0.0")]
    assert launch.wrappers[0].kind == "shell"


def test_sudo_and_env_wrappers_are_unwrapped() -> None:
    launch = analyze_launch("sudo", ["-u", "svc", "env", "A=1", "npx", "pkg"])
    assert [w.kind for w in launch.wrappers] == ["sudo", "env"]
    assert launch.segments[0].argv == ("npx", "pkg")


def test_powershell_encoded_command_is_decoded() -> None:
    encoded = base64.b64encode("npx -y evil-pkg".encode("utf-16-le")).decode()
    launch = analyze_launch("powershell", ["-EncodedCommand", encoded])
    assert launch.segments[0].argv == ("npx", "-y", "evil-pkg")


def test_windows_executable_paths_are_recognised() -> None:
    assert exe_name("C:\\Program Files\\nodejs\\npx.cmd") == "npx"
    assert exe_name("/usr/bin/python3") == "python3"


def test_unbalanced_quotes_do_not_crash_script_splitting() -> None:
    assert split_script('echo "unterminated') == [["echo", '"unterminated']]
