"""Shell command strings and download-and-run patterns in launch commands."""

from __future__ import annotations

import re2

from mcpwarden.detect.findings import Severity
from mcpwarden.scan.analysis import ServerAnalysis
from mcpwarden.scan.checks.base import CheckContext
from mcpwarden.scan.checks.secrets import mask_text
from mcpwarden.scan.model import Issue
from mcpwarden.scan.rules import rule

_DOWNLOADERS = r"(?:curl|wget|fetch|iwr|irm|invoke-webrequest|invoke-restmethod|aria2c|http)"
_INTERPRETERS = (
    r"(?:(?:ba|z|da|k|fi|a)?sh|python[0-9.]*|node|perl|ruby|php|iex|invoke-expression|pwsh|powershell)"
)
_REMOTE_EXEC = (
    re2.compile(rf"(?i)\b{_DOWNLOADERS}\b[^|;&]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+)?{_INTERPRETERS}\b"),
    re2.compile(rf"(?i)(?:\$\(|<\(|`)\s*{_DOWNLOADERS}\b"),
    re2.compile(
        r"(?i)\b(?:iex|invoke-expression)\b[^;|]*\b(?:downloadstring|iwr|irm|invoke-webrequest|invoke-restmethod)\b"
    ),
    re2.compile(r"(?i)\bdownloadstring\s*\("),
)
_CMD_OPERATORS = frozenset("&|<>^")


def check_shell_wrapper(analysis: ServerAnalysis, ctx: CheckContext) -> list[Issue]:
    if analysis.launch is None:
        return []
    issues: list[Issue] = []
    for w in analysis.launch.wrappers:
        if w.kind == "cmd" and not (set(w.script or "") & _CMD_OPERATORS):
            continue  # `cmd /c npx …` is the documented way to start npx on Windows
        if w.kind not in ("shell", "powershell", "cmd"):
            continue
        encoded = w.kind == "powershell" and (w.flag or "").lower().lstrip("-/").startswith("e")
        severity = Severity.HIGH if encoded else rule("MCPW-S010").severity
        detail = " with a base64-encoded script, which hides what it runs" if encoded else ""
        issues.append(
            Issue.at(
                analysis.entry,
                "MCPW-S010",
                severity,
                f"server is started through `{w.program} {w.flag}`{detail}",
                field_name=w.field,
            )
        )
    return issues


def check_remote_script(analysis: ServerAnalysis, ctx: CheckContext) -> list[Issue]:
    entry = analysis.entry
    if entry.command is None:
        return []
    texts = [" ".join([entry.command, *entry.args])]
    if analysis.launch is not None:
        texts += analysis.launch.scripts
    for text in texts:
        for pattern in _REMOTE_EXEC:
            m = pattern.search(text)
            if m is not None:
                shown = mask_text(m.group(0).strip())[:100]
                return [
                    Issue.at(
                        entry,
                        "MCPW-S011",
                        rule("MCPW-S011").severity,
                        f"server start downloads and executes a remote script ({shown})",
                        field_name="args",
                    )
                ]
    return []
