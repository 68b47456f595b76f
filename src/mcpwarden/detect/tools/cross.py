"""Checks that need several servers at once: shadowing and name collisions.

An aggregating gateway (or a scanner reading a client config) sees every server's tools
side by side, which is the only place where "server B's description talks about server A's
`send_email`" or "two servers both offer `read_fiIe`" can be noticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import re2

from mcpwarden.detect.findings import Finding, Severity
from mcpwarden.detect.tools.fields import child_path, iter_fields
from mcpwarden.detect.tools.normalize import normalize, skeleton

_IDENT = re2.compile(r"[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*")
# Names this generic appear in prose for ordinary reasons; only distinctive names count as references.
_MIN_DISTINCT_LEN = 6


def _key(name: str) -> str:
    return normalize(name).text.replace("-", "_")


def _distinctive(name: str) -> bool:
    return ("_" in name or len(name) >= 10) and len(name) >= _MIN_DISTINCT_LEN


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        lo = i
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            lo = min(lo, cur[j])
        if lo > limit:
            return limit + 1
        prev = cur
    return prev[-1]


@dataclass(frozen=True, slots=True)
class CrossFinding:
    """A cross-server finding with the tool it is about (index None: about the whole server)."""

    server: str
    index: int | None
    finding: Finding


def cross_server_findings(
    tools_by_server: Mapping[str, list[dict[str, Any]]], quotas: Mapping[str, int] | None = None
) -> list[Finding]:
    """Findings whose paths point into `tools_by_server` (e.g. `$.github[3].description`)."""
    return [c.finding for c in cross_server_report(tools_by_server, quotas)]


def cross_server_report(
    tools_by_server: Mapping[str, list[dict[str, Any]]], quotas: Mapping[str, int] | None = None
) -> list[CrossFinding]:
    """Like `cross_server_findings`, keeping which server and tool each finding is about."""
    findings: list[CrossFinding] = []
    entries: list[tuple[str, int, str]] = []  # (server, index, name)
    for server, tools in tools_by_server.items():
        for i, tool in enumerate(tools):
            if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                entries.append((server, i, tool["name"]))

    findings.extend(_references(tools_by_server, entries))
    findings.extend(_collisions(entries))
    for server, limit in (quotas or {}).items():
        count = len(tools_by_server.get(server, []))
        if count > limit:
            finding = Finding(
                "tool-quota-exceeded",
                Severity.MEDIUM,
                f"server {server!r} offers {count} tools, above its quota of {limit}",
                child_path("$", server),
                score=0.5,
            )
            findings.append(CrossFinding(server, None, finding))
    return findings


def _references(
    tools_by_server: Mapping[str, list[dict[str, Any]]], entries: list[tuple[str, int, str]]
) -> list[CrossFinding]:
    owners: dict[str, set[str]] = {}
    for server, _, name in entries:
        key = _key(name)
        if _distinctive(key):
            owners.setdefault(key, set()).add(server)
    out: list[CrossFinding] = []
    if not owners:
        return out
    for server, tools in tools_by_server.items():
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict):
                continue
            base = f"{child_path('$', server)}[{i}]"
            for field in iter_fields(tool):
                if field.kind in ("name", "param_name"):
                    continue
                text = normalize(field.text).text
                named = {m.replace("-", "_") for m in _IDENT.findall(text)}
                foreign = sorted(
                    (ident, other)
                    for ident in named
                    for other in owners.get(ident, ())
                    if other != server and server not in owners[ident]
                )
                if foreign:
                    listed = ", ".join(f"{o}:{n}" for n, o in foreign[:5])
                    out.append(
                        CrossFinding(
                            server,
                            i,
                            Finding(
                                "cross-server-reference",
                                Severity.HIGH,
                                f"tool {tool.get('name')!r} of {server!r} refers to another server's tools "
                                f"({listed})",
                                base + field.path[1:],
                                score=0.85,
                            ),
                        )
                    )
    return out


def _collisions(entries: list[tuple[str, int, str]]) -> list[CrossFinding]:
    out: list[CrossFinding] = []
    skeletons = [(s, i, n, _key(n), skeleton(n)) for s, i, n in entries]
    for a in range(len(skeletons)):
        sa, _, na, ka, ska = skeletons[a]
        for b in range(a + 1, len(skeletons)):
            sb, ib, nb, kb, skb = skeletons[b]
            if sa == sb:
                continue
            path = f"{child_path('$', sb)}[{ib}].name"
            if na == nb:
                out.append(
                    CrossFinding(
                        sb,
                        ib,
                        Finding(
                            "duplicate-tool-name",
                            Severity.MEDIUM,
                            f"{sa!r} and {sb!r} both offer a tool named {na!r}",
                            path,
                            score=0.5,
                        ),
                    )
                )
            elif ka == kb or ska == skb:
                out.append(
                    CrossFinding(
                        sb,
                        ib,
                        Finding(
                            "confusable-tool-name",
                            Severity.HIGH,
                            f"{sb!r}:{nb!r} looks like {sa!r}:{na!r}",
                            path,
                            score=0.85,
                        ),
                    )
                )
            elif min(len(ka), len(kb)) >= 5:
                limit = 1 if min(len(ka), len(kb)) < 10 else 2
                if edit_distance(ka, kb, limit) <= limit:
                    out.append(
                        CrossFinding(
                            sb,
                            ib,
                            Finding(
                                "similar-tool-name",
                                Severity.MEDIUM,
                                f"{sb!r}:{nb!r} is within edit distance {limit} of {sa!r}:{na!r}",
                                path,
                                score=0.4,
                            ),
                        )
                    )
    return out
