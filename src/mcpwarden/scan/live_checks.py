"""Findings from live inspection: poisoned metadata, cross-server conflicts, pin drift.

Prompts, resources and server instructions are model-visible text too, so they go
through the tool detector as tool-shaped objects (name + description, prompt arguments
as schema properties) rather than through a second, weaker code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcpwarden.detect.findings import Finding, Severity
from mcpwarden.detect.tools import cross_server_findings, scan_tool
from mcpwarden.detect.tools.definitions import instructions_as_tool, prompt_as_tool, resource_as_tool
from mcpwarden.pinning import definition_hash
from mcpwarden.scan.checks.secrets import mask_text
from mcpwarden.scan.live import Inspection
from mcpwarden.scan.model import Issue
from mcpwarden.scan.rules import rule
from mcpwarden.store import SQLiteStore


def _model_visible(ins: Inspection) -> list[tuple[str, dict[str, Any]]]:
    items: list[tuple[str, dict[str, Any]]] = [("tool", t) for t in ins.tools]
    items += [("prompt", prompt_as_tool(p)) for p in ins.prompts]
    items += [("resource", resource_as_tool(r)) for r in ins.resources]
    items += [("resource template", resource_as_tool(r)) for r in ins.resource_templates]
    if ins.instructions:
        items.append(("server instructions", instructions_as_tool(ins.instructions)))
    return items


def _reportable(flagged: bool, finding: Finding) -> bool:
    """A flagged detection reports all its reasons; an unflagged one only grave ones."""
    return flagged or finding.severity >= Severity.HIGH


def poisoning_issues(ins: Inspection) -> list[Issue]:
    entry = ins.entry
    issues: list[Issue] = []
    for kind, obj in _model_visible(ins):
        detection = scan_tool(obj)
        for f in detection.findings:
            if not _reportable(detection.flagged, f):
                continue
            issues.append(
                Issue.at(
                    entry,
                    "MCPW-L001",
                    f.severity,
                    f"{kind} {obj.get('name')!r}: {f.message} [{f.rule}]",
                    detector_rule=f.rule,
                    json_path=f.path,
                    score=round(detection.score, 4),
                )
            )
    return issues


def cross_server_issues(inspections: list[Inspection]) -> list[Issue]:
    """Conflicts between servers that one client loads together (same config file)."""
    by_file: dict[Path, list[Inspection]] = {}
    for ins in inspections:
        if ins.error is None:
            by_file.setdefault(ins.entry.file, []).append(ins)
    issues: list[Issue] = []
    for group in by_file.values():
        labels: dict[str, Inspection] = {}
        for ins in group:
            label = ins.entry.name if ins.entry.name not in labels else f"{ins.entry.name}#{len(labels)}"
            labels[label] = ins
        if len(labels) < 2:
            continue
        for f in cross_server_findings({label: ins.tools for label, ins in labels.items()}):
            owner = _owner(f.path, labels)
            issues.append(
                Issue.at(
                    owner.entry,
                    "MCPW-L002",
                    f.severity,
                    f"{f.message} [{f.rule}]",
                    detector_rule=f.rule,
                    json_path=f.path,
                )
            )
    return issues


def _owner(path: str | None, labels: Mapping[str, Inspection]) -> Inspection:
    """The server a cross-server finding's JSON path (`$.name[3]…`) points into."""
    best: tuple[int, Inspection] | None = None
    for label, ins in labels.items():
        for prefix in (f"$.{label}", f"$['{label}']"):
            if path and path.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), ins)
    return best[1] if best else next(iter(labels.values()))


def _definitions(ins: Inspection) -> dict[tuple[str, str], dict[str, Any]]:
    defs: dict[tuple[str, str], dict[str, Any]] = {}
    for tool in ins.tools:
        defs[("tool", str(tool.get("name")))] = tool
    for prompt in ins.prompts:
        defs[("prompt", str(prompt.get("name")))] = prompt
    for template in ins.resource_templates:
        defs[("resource_template", str(template.get("uriTemplate") or template.get("name")))] = template
    return defs


def pin_issues(ins: Inspection, store: SQLiteStore) -> list[Issue]:
    """Compare live definitions with the pins recorded for the server (by server name)."""
    if ins.error is not None:
        return []
    entry = ins.entry
    pins = {(p.kind, p.name): p for p in store.list_pins(entry.name)}
    live = _definitions(ins)
    issues: list[Issue] = []
    for (kind, name), defn in live.items():
        live_hash = definition_hash(defn)
        pin = pins.get((kind, name))
        label = kind.replace("_", " ")
        if pin is None:
            issues.append(
                Issue.at(
                    entry,
                    "MCPW-L003",
                    rule("MCPW-L003").severity,
                    f"new {label} {name!r} is not pinned",
                    kind=kind,
                    name=name,
                    hash=live_hash,
                )
            )
        elif pin.status == "rejected" and live_hash == pin.candidate_hash:
            issues.append(
                Issue.at(
                    entry,
                    "MCPW-L007",
                    rule("MCPW-L007").severity,
                    f"{label} {name!r} is offered in a version a reviewer rejected",
                    kind=kind,
                    name=name,
                    hash=live_hash,
                )
            )
        elif live_hash == pin.hash and not pin.is_approved:
            issues.append(
                Issue.at(
                    entry,
                    "MCPW-L003",
                    rule("MCPW-L003").severity,
                    f"{label} {name!r} is pinned but not yet approved",
                    kind=kind,
                    name=name,
                    hash=live_hash,
                )
            )
        elif live_hash != pin.hash:
            issues.append(
                Issue.at(
                    entry,
                    "MCPW-L004",
                    rule("MCPW-L004").severity,
                    f"{label} {name!r} changed since it was pinned ({pin.hash[:12]} -> {live_hash[:12]})",
                    kind=kind,
                    name=name,
                    pinned_hash=pin.hash,
                    hash=live_hash,
                )
            )
    for (kind, name), pin in pins.items():
        if (kind, name) not in live:
            issues.append(
                Issue.at(
                    entry,
                    "MCPW-L005",
                    rule("MCPW-L005").severity,
                    f"pinned {kind.replace('_', ' ')} {name!r} is no longer offered",
                    kind=kind,
                    name=name,
                    pinned_hash=pin.hash,
                )
            )
    return issues


def failure_issue(ins: Inspection) -> Issue | None:
    if ins.error is None:
        return None
    # The error carries the server's stderr, which may print its own credentials.
    message = f"could not inspect: {mask_text(ins.error)}"
    return Issue.at(ins.entry, "MCPW-L006", rule("MCPW-L006").severity, message)
