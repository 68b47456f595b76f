"""Plain-HTTP remotes and switched-off TLS verification."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from mcpwarden.detect.findings import Severity
from mcpwarden.scan.analysis import ServerAnalysis
from mcpwarden.scan.checks.base import CheckContext
from mcpwarden.scan.launch import exe_name
from mcpwarden.scan.model import Issue
from mcpwarden.scan.rules import rule

_TLS_OFF_ENV = {
    "NODE_TLS_REJECT_UNAUTHORIZED": ("0",),
    "PYTHONHTTPSVERIFY": ("0",),
    "GIT_SSL_NO_VERIFY": ("1", "true", "yes"),
    "CURL_INSECURE": ("1", "true", "yes"),
    "HTTPX_SSL_VERIFY": ("0", "false", "no"),
    "SSL_VERIFY": ("0", "false", "no"),
}
_TLS_OFF_ARGS = frozenset(
    {
        "--insecure",
        "--no-verify-ssl",
        "--no-check-certificate",
        "--ignore-certificate-errors",
        "--tls-skip-verify",
        "--insecure-skip-tls-verify",
        "--skip-tls-verify",
        "--allow-insecure",
        "--disable-ssl-verification",
    }
)


def host_class(url: str) -> str | None:
    """ "loopback", "private" or "public" for an http(s) URL's host; None if unparsable."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None
    if not host:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if host.endswith((".local", ".internal", ".lan", ".home.arpa")) or "." not in host:
            return "private"
        return "public"
    if ip.is_loopback or ip.is_unspecified:
        return "loopback"
    if ip.is_private or ip.is_link_local:
        return "private"
    return "public"


def _plain_http_issue(analysis: ServerAnalysis, url: str, field: str, where: str) -> Issue | None:
    if not url.lower().startswith("http://"):
        return None
    cls = host_class(url)
    if cls in (None, "loopback"):
        return None
    severity = rule("MCPW-S004").severity if cls == "public" else Severity.MEDIUM
    host = urlsplit(url).hostname
    return Issue.at(
        analysis.entry,
        "MCPW-S004",
        severity,
        f"{where} connects to {cls} host {host!r} over plain http://",
        field_name=field,
        host=host,
    )


def check_plain_http(analysis: ServerAnalysis, ctx: CheckContext) -> list[Issue]:
    entry = analysis.entry
    issues: list[Issue] = []
    if entry.url is not None:
        issue = _plain_http_issue(analysis, entry.url, "url", f"{entry.transport} server")
        if issue is not None:
            issues.append(issue)
    for i, arg in enumerate(entry.args):
        for token in arg.split():
            issue = _plain_http_issue(analysis, token, f"args.{i}", "argument")
            if issue is not None:
                issues.append(issue)
    return issues


def check_tls_disabled(analysis: ServerAnalysis, ctx: CheckContext) -> list[Issue]:
    entry = analysis.entry
    issues: list[Issue] = []
    for key, value in entry.env.items():
        bad = _TLS_OFF_ENV.get(key.upper())
        if bad is not None and value.strip().lower() in bad:
            issues.append(
                Issue.at(
                    entry,
                    "MCPW-S015",
                    rule("MCPW-S015").severity,
                    f"env {key}={value.strip()} turns off TLS certificate verification",
                    field_name=f"env.{key}",
                )
            )
    for program in analysis.programs:
        curl = exe_name(program.segment.argv[0]) == "curl"
        for offset, arg in enumerate(program.segment.argv[1:], start=1):
            flag = arg.split("=", 1)[0].lower()
            if flag in _TLS_OFF_ARGS or (curl and flag == "-k"):
                issues.append(
                    Issue.at(
                        entry,
                        "MCPW-S015",
                        rule("MCPW-S015").severity,
                        f"argument {arg!r} turns off TLS certificate verification",
                        field_name=program.segment.field_of(offset),
                    )
                )
    return issues
