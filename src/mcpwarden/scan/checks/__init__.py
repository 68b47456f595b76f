"""Static checks over configured servers; each module owns a group of rule ids."""

from __future__ import annotations

from collections.abc import Iterable

from mcpwarden.scan.analysis import analyze
from mcpwarden.scan.checks.base import Check, CheckContext
from mcpwarden.scan.checks.launch_flags import check_container_flags, check_elevation, check_filesystem_scope
from mcpwarden.scan.checks.secrets import check_secrets, masked_view
from mcpwarden.scan.checks.shell import check_remote_script, check_shell_wrapper
from mcpwarden.scan.checks.supply_chain import check_pinning, check_typosquat, check_vulnerable
from mcpwarden.scan.checks.transport import check_plain_http, check_tls_disabled
from mcpwarden.scan.model import Issue, ServerEntry

STATIC_CHECKS: tuple[Check, ...] = (
    check_pinning,
    check_plain_http,
    check_secrets,
    check_container_flags,
    check_filesystem_scope,
    check_shell_wrapper,
    check_remote_script,
    check_typosquat,
    check_vulnerable,
    check_elevation,
    check_tls_disabled,
)


def run_static_checks(entries: Iterable[ServerEntry], ctx: CheckContext | None = None) -> list[Issue]:
    context = ctx or CheckContext()
    issues: list[Issue] = []
    for entry in entries:
        analysis = analyze(entry)
        for check in STATIC_CHECKS:
            issues.extend(check(analysis, context))
    return issues


__all__ = ["STATIC_CHECKS", "CheckContext", "masked_view", "run_static_checks"]
