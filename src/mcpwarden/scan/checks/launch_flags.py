"""How far a server reaches into the host: container privileges, namespaces, mounts,
filesystem servers given `/` or `~`, and `sudo`."""

from __future__ import annotations

from mcpwarden.detect.findings import Severity
from mcpwarden.scan.analysis import ServerAnalysis
from mcpwarden.scan.checks.base import CheckContext
from mcpwarden.scan.checks.paths import classify_path
from mcpwarden.scan.container import ContainerRun
from mcpwarden.scan.model import Issue, ServerEntry
from mcpwarden.scan.rules import rule

_POWERFUL_CAPS = frozenset(
    {
        "ALL",
        "SYS_ADMIN",
        "SYS_PTRACE",
        "SYS_MODULE",
        "NET_ADMIN",
        "DAC_READ_SEARCH",
        "DAC_OVERRIDE",
        "SYS_RAWIO",
        "BPF",
    }
)
_HOST_NAMESPACES = {
    "--network": Severity.HIGH,
    "--net": Severity.HIGH,
    "--pid": Severity.HIGH,
    "--ipc": Severity.MEDIUM,
    "--uts": Severity.MEDIUM,
    "--userns": Severity.MEDIUM,
    "--cgroupns": Severity.MEDIUM,
}
_MOUNT_SEVERITY = {
    "root": Severity.CRITICAL,
    "docker-socket": Severity.CRITICAL,
    "home": Severity.HIGH,
    "credentials": Severity.HIGH,
    "system": Severity.HIGH,
}
_MOUNT_WORDS = {
    "root": "the host's root filesystem",
    "docker-socket": "the container engine socket (root on the host)",
    "home": "the whole home directory",
    "credentials": "a credentials folder",
    "system": "a system directory",
}
_FILESYSTEM_HINTS = ("filesystem", "file-system", "server-fs", "mcp-fs", "fs-mcp", "files-mcp")


def _container_privileges(entry: ServerEntry, run: ContainerRun) -> list[Issue]:
    issues: list[Issue] = []
    for opt in run.options:
        if opt.flag == "--privileged" and (opt.value is None or opt.value.lower() != "false"):
            issues.append(
                Issue.at(
                    entry, "MCPW-S006", Severity.CRITICAL, "container runs --privileged", field_name=opt.field
                )
            )
        elif opt.flag == "--cap-add" and opt.value:
            for cap in opt.value.split(","):
                name = cap.strip().upper().removeprefix("CAP_")
                severity = Severity.HIGH if name in _POWERFUL_CAPS else Severity.MEDIUM
                issues.append(
                    Issue.at(
                        entry,
                        "MCPW-S006",
                        severity,
                        f"container adds capability {name}",
                        field_name=opt.field,
                    )
                )
        elif opt.flag == "--security-opt" and opt.value:
            value = opt.value.lower().replace(":", "=")
            if "unconfined" in value or value in ("label=disable", "no-new-privileges=false"):
                issues.append(
                    Issue.at(
                        entry,
                        "MCPW-S006",
                        Severity.HIGH,
                        f"container weakens confinement with --security-opt {opt.value}",
                        field_name=opt.field,
                    )
                )
        elif opt.flag in _HOST_NAMESPACES and opt.value and opt.value.lower() == "host":
            issues.append(
                Issue.at(
                    entry,
                    "MCPW-S007",
                    _HOST_NAMESPACES[opt.flag],
                    f"container shares the host's {opt.flag.lstrip('-')} namespace ({opt.flag} host)",
                    field_name=opt.field,
                )
            )
    return issues


def _mount_sources(run: ContainerRun) -> list[tuple[str, str, bool, str]]:
    """(source, target, read_only, field) for every bind mount."""
    out: list[tuple[str, str, bool, str]] = []
    for opt in run.values("-v", "--volume"):
        value = opt.value or ""
        drive = len(value) > 2 and value[0].isalpha() and value[1] == ":" and value[2] in "\\/"
        head, rest = (value[:2], value[2:]) if drive else ("", value)
        parts = rest.split(":")
        source = head + parts[0]
        target = parts[1] if len(parts) > 1 else ""
        read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        if len(parts) == 1:  # anonymous volume: only a container path
            continue
        out.append((source, target, read_only, opt.field))
    for opt in run.values("--mount"):
        fields: dict[str, str] = {}
        for kv in (opt.value or "").split(","):
            key, eq, val = kv.partition("=")
            if key:
                fields[key.strip().lower()] = val if eq else "true"
        if fields.get("type", "volume") != "bind":
            continue
        source = fields.get("source", fields.get("src", ""))
        target = fields.get("target", fields.get("destination", fields.get("dst", "")))
        read_only = fields.get("readonly", fields.get("ro", "false")).lower() in ("true", "1")
        out.append((source, target, read_only, opt.field))
    return out


def _container_mounts(entry: ServerEntry, run: ContainerRun, ctx: CheckContext) -> list[Issue]:
    issues: list[Issue] = []
    for source, target, read_only, field in _mount_sources(run):
        kind = classify_path(source, ctx.home)
        if kind is None:
            continue
        mode = "read-only" if read_only else "read-write"
        issues.append(
            Issue.at(
                entry,
                "MCPW-S008",
                _MOUNT_SEVERITY[kind],
                f"container mounts {_MOUNT_WORDS[kind]} ({source} -> {target}, {mode})",
                field_name=field,
                source=source,
            )
        )
    return issues


def check_container_flags(analysis: ServerAnalysis, ctx: CheckContext) -> list[Issue]:
    issues: list[Issue] = []
    for run in analysis.containers:
        issues += _container_privileges(analysis.entry, run)
        issues += _container_mounts(analysis.entry, run, ctx)
    return issues


def is_filesystem_server(program: str) -> bool:
    lowered = program.lower()
    return any(hint in lowered for hint in _FILESYSTEM_HINTS)


def check_filesystem_scope(analysis: ServerAnalysis, ctx: CheckContext) -> list[Issue]:
    issues: list[Issue] = []
    for program in analysis.programs:
        # Inside a container, paths are the container's; host exposure is the mount check's job.
        if program.in_container or not is_filesystem_server(program.program):
            continue
        for offset, arg in enumerate(program.args):
            if arg.startswith("-") and "=" not in arg:
                continue
            value = arg.split("=", 1)[1] if arg.startswith("-") else arg
            kind = classify_path(value, ctx.home)
            if kind not in ("root", "home"):
                continue
            where = "the filesystem root" if kind == "root" else "the whole home directory"
            issues.append(
                Issue.at(
                    analysis.entry,
                    "MCPW-S009",
                    rule("MCPW-S009").severity,
                    f"filesystem server {program.program!r} is given {where} ({value})",
                    field_name=program.segment.field_of(program.start + offset),
                    path=value,
                )
            )
    return issues


def check_elevation(analysis: ServerAnalysis, ctx: CheckContext) -> list[Issue]:
    if analysis.launch is None:
        return []
    return [
        Issue.at(
            analysis.entry,
            "MCPW-S014",
            rule("MCPW-S014").severity,
            f"server is started through {w.program}, with elevated privileges",
            field_name=w.field,
        )
        for w in analysis.launch.wrappers
        if w.kind == "sudo"
    ]
