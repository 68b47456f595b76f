"""The scanner's rule catalogue: stable ids, default severities and help text.

Ids never change meaning once released: CI baselines, suppressions and GitHub code
scanning alerts are keyed on them. New checks get new ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpwarden.detect.findings import Severity


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    severity: Severity
    short: str
    full: str
    help: str
    tags: tuple[str, ...] = ("security", "mcp")


_RULES: tuple[Rule, ...] = (
    Rule(
        "MCPW-S001",
        "UnpinnedPackage",
        Severity.MEDIUM,
        "Server package is not pinned to a version",
        "The server is started through a package runner (npx, uvx, pipx, npm exec, …) without an exact "
        "version, so every start may download and run a different release, including a malicious one "
        "published after the config was reviewed.",
        "Pin an exact version: `npx -y @scope/server@1.2.3`, `uvx server==1.2.3` or "
        "`uvx --from server==1.2.3 server`. For git references, pin a full commit hash.",
        ("security", "mcp", "supply-chain"),
    ),
    Rule(
        "MCPW-S002",
        "FloatingVersionTag",
        Severity.MEDIUM,
        "Server package uses a moving tag such as `latest`",
        "`@latest` (or an untagged or `:latest` container image) asks for whatever was published last. "
        "A compromised maintainer account or a hijacked tag then reaches every machine on its next start.",
        "Replace the tag by an exact version (npm, PyPI) or an image digest (`image@sha256:…`).",
        ("security", "mcp", "supply-chain"),
    ),
    Rule(
        "MCPW-S003",
        "ContainerImageWithoutDigest",
        Severity.MEDIUM,
        "Container image is not pinned by digest",
        "Image tags can be moved to a different image at any time; only a `@sha256:` digest names "
        "one immutable image.",
        "Reference the image by digest, e.g. `ghcr.io/org/server:1.2.3@sha256:<64 hex digits>` "
        "(get it with `docker buildx imagetools inspect IMAGE`).",
        ("security", "mcp", "supply-chain"),
    ),
    Rule(
        "MCPW-S004",
        "PlaintextHttpRemote",
        Severity.HIGH,
        "Remote MCP server is reached over plain HTTP",
        "Traffic to a non-loopback server over `http://` can be read and altered on the network: "
        "tool definitions can be poisoned in transit and bearer tokens stolen.",
        "Use `https://`. Plain HTTP is acceptable only for loopback addresses (localhost, 127.0.0.1, ::1).",
        ("security", "mcp", "transport"),
    ),
    Rule(
        "MCPW-S005",
        "PlaintextSecret",
        Severity.HIGH,
        "Secret written in plain text in the config",
        "A credential appears literally in the server's environment, arguments, URL or headers. Config "
        "files are copied, synced, committed and read by other tools; the secret leaks with them.",
        "Move the value to the OS keychain or an environment variable the client expands "
        "(`${env:NAME}` in VS Code and Cursor, `${NAME}` in Claude Code, `env_vars` in Codex, "
        "`${input:…}` prompts in VS Code), then rotate the exposed credential.",
        ("security", "mcp", "secrets"),
    ),
    Rule(
        "MCPW-S006",
        "PrivilegedContainer",
        Severity.HIGH,
        "Container runs privileged or with added capabilities",
        "`--privileged`, `--cap-add` of powerful capabilities or disabled seccomp/AppArmor profiles "
        "remove most of the isolation the container was meant to give; a compromised server can "
        "take over the host.",
        "Drop `--privileged` and `--cap-add`; run with `--cap-drop ALL --security-opt no-new-privileges` "
        "and a non-root `--user`.",
        ("security", "mcp", "sandbox"),
    ),
    Rule(
        "MCPW-S007",
        "HostNamespace",
        Severity.HIGH,
        "Container shares a host namespace",
        "`--network host`, `--pid host`, `--ipc host` or `--userns host` give the server the host's "
        "network stack or process table: it can reach services bound to localhost and see or signal "
        "host processes.",
        "Remove the host namespace option; publish only the ports the server needs.",
        ("security", "mcp", "sandbox"),
    ),
    Rule(
        "MCPW-S008",
        "SensitiveHostMount",
        Severity.HIGH,
        "Container mounts a sensitive host path",
        "Mounting `/`, the home directory, credential folders (`~/.ssh`, `~/.aws`, …), `/etc` or the "
        "Docker socket gives the server access to every secret on the machine, or root via the socket.",
        "Mount only the project folder the server needs, read-only where possible (`-v $PWD/docs:/docs:ro`).",
        ("security", "mcp", "sandbox"),
    ),
    Rule(
        "MCPW-S009",
        "FilesystemServerTooBroad",
        Severity.HIGH,
        "Filesystem server is rooted at `/` or the home directory",
        "A filesystem server given the root or the whole home directory can read SSH keys, cloud "
        "credentials and browser profiles, and write to shell start-up files, whenever a prompt "
        "injection asks it to.",
        "Give the filesystem server only the project directories it needs.",
        ("security", "mcp", "least-privilege"),
    ),
    Rule(
        "MCPW-S010",
        "ShellWrapper",
        Severity.MEDIUM,
        "Server is started through a shell command string",
        "`bash -c`, `sh -c`, `powershell -Command` or `cmd /c` with shell operators run a script rather "
        "than a program: what it does is harder to review, and expansions and operators can run more "
        "than the server.",
        "Start the server program directly with `command` and `args`; set variables with `env`.",
        ("security", "mcp", "execution"),
    ),
    Rule(
        "MCPW-S011",
        "RemoteScriptExecution",
        Severity.CRITICAL,
        "Server start downloads a script and runs it",
        "`curl … | sh`, `wget -O- … | bash`, `iwr … | iex` or `$(curl …)` run whatever the remote host "
        "serves at that moment, unreviewed and unpinned, with the user's privileges.",
        "Install the server from a package registry at a pinned version, or download, review and "
        "checksum the script once.",
        ("security", "mcp", "execution", "supply-chain"),
    ),
    Rule(
        "MCPW-S012",
        "PackageTyposquat",
        Severity.HIGH,
        "Package name looks like a typo of a well-known MCP server",
        "The package name is one edit, a confusable character or a scope change away from a well-known "
        "MCP package. Attackers register such names to catch mistyped configs.",
        "Check the package name against the publisher's documentation and correct it.",
        ("security", "mcp", "supply-chain"),
    ),
    Rule(
        "MCPW-S013",
        "KnownVulnerableVersion",
        Severity.HIGH,
        "Pinned package version has a known vulnerability",
        "The exact version the server is pinned to is listed as affected in the OSV advisory database "
        "given with `--osv-db`.",
        "Upgrade to a fixed version named in the advisory.",
        ("security", "mcp", "supply-chain", "vulnerability"),
    ),
    Rule(
        "MCPW-S014",
        "ElevatedPrivileges",
        Severity.HIGH,
        "Server is started with sudo or another privilege elevation",
        "A server started through `sudo`, `doas`, `runas` or `su` runs as an administrator; every tool "
        "call a prompt injection triggers then runs with those rights.",
        "Run the server as the user; grant it narrowly the access it needs.",
        ("security", "mcp", "least-privilege"),
    ),
    Rule(
        "MCPW-S015",
        "TlsVerificationDisabled",
        Severity.HIGH,
        "TLS certificate verification is turned off",
        "Settings such as `NODE_TLS_REJECT_UNAUTHORIZED=0`, `PYTHONHTTPSVERIFY=0` or `--insecure` let "
        "anyone on the network impersonate the servers this one talks to.",
        "Remove the setting; add a private CA with `NODE_EXTRA_CA_CERTS` or `SSL_CERT_FILE` instead.",
        ("security", "mcp", "transport"),
    ),
    Rule(
        "MCPW-L001",
        "ToolPoisoning",
        Severity.HIGH,
        "Tool, prompt or resource metadata contains injected instructions",
        "Descriptions and schemas returned by the live server contain hidden instructions, invisible "
        "Unicode, secrecy or exfiltration wording, or references to sensitive paths: text the model "
        "reads and may obey.",
        "Do not use the server until its maintainer explains the text; report it if it is malicious.",
        ("security", "mcp", "tool-poisoning"),
    ),
    Rule(
        "MCPW-L002",
        "CrossServerConflict",
        Severity.HIGH,
        "Tools of different servers shadow or reference each other",
        "A server's tool has the same or a confusable name as another server's tool, or its description "
        "talks about another server's tools: the classic set-up for tool shadowing.",
        "Remove one of the servers, or namespace their tools in a gateway.",
        ("security", "mcp", "tool-poisoning"),
    ),
    Rule(
        "MCPW-L003",
        "UnpinnedDefinition",
        Severity.MEDIUM,
        "Live definition is not in the pin store",
        "The server offers a tool or prompt that has never been reviewed and pinned.",
        "Review it and approve it with `mcpwarden pins approve`.",
        ("security", "mcp", "rug-pull"),
    ),
    Rule(
        "MCPW-L004",
        "ChangedDefinition",
        Severity.HIGH,
        "Live definition differs from its pinned version",
        "A tool or prompt changed since it was approved: the rug-pull pattern, where a server earns "
        "approval and then swaps in malicious instructions.",
        "Review the difference (`mcpwarden pins diff`) and approve or reject it.",
        ("security", "mcp", "rug-pull"),
    ),
    Rule(
        "MCPW-L005",
        "RemovedDefinition",
        Severity.LOW,
        "Pinned definition is no longer offered",
        "A tool or prompt that was pinned for this server is gone. Harmless on its own, but worth "
        "knowing when it comes with other changes.",
        "Delete the pin if the removal is expected.",
        ("security", "mcp", "rug-pull"),
    ),
    Rule(
        "MCPW-L006",
        "InspectionFailed",
        Severity.INFO,
        "Server could not be inspected",
        "The server did not start, did not answer within the timeout or refused the connection, so "
        "its tools were not checked.",
        "Check the command or URL, or raise `--timeout`.",
        ("mcp",),
    ),
    Rule(
        "MCPW-L007",
        "RejectedDefinition",
        Severity.HIGH,
        "Live definition was rejected in the pin store",
        "The server still offers a definition that a reviewer rejected.",
        "Remove the server or ask its maintainer why the rejected definition is back.",
        ("security", "mcp", "rug-pull"),
    ),
)

RULES: dict[str, Rule] = {r.id: r for r in _RULES}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
