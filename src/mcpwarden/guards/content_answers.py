"""Secrets and personal data in what the client sends upstream: tool arguments and answers.

Tool arguments and the client's answers to server requests (a sampling completion, what
a user typed into an elicitation form, the roots it exposes) travel the same way: from
the client's side to a server that may be hostile. Both get the same search for secrets
and PII as results do (`detect.text`), over every string at any depth, and the action
`argument_secrets` / `argument_pii` names: `block` refuses, `redact` replaces the values
with placeholders, `log` records an alert and forwards. `outbound` (for a tool that sends
data out) turns any secret into a refused exfiltration attempt.
"""

from __future__ import annotations

from typing import Any

from mcpwarden.detect.findings import Finding
from mcpwarden.detect.text import Redactor, find_pii, find_secrets
from mcpwarden.guards.content_policy import ContentPolicy
from mcpwarden.guards.traversal import TooComplex, replace_leaves, walk
from mcpwarden.types import JSON, Decision


def scan_client_data(
    holder: JSON,
    key: str,
    policy: ContentPolicy,
    *,
    what: str,
    outbound: bool,
    reason: str,
    redacted_reason: str,
) -> Decision | None:
    """Judge `holder[key]` (arguments, or an answer's result) and return the decision."""
    want_secrets = outbound or policy.argument_secrets != "pass"
    want_pii = policy.argument_pii != "pass"
    if not (want_secrets or want_pii):
        return None
    secrets: list[tuple[str, Finding]] = []
    pii: list[tuple[str, Finding]] = []
    by_leaf: dict[tuple[str | int, ...], tuple[str, list[Finding], list[Finding]]] = {}
    try:
        leaves = list(walk(holder[key], f"$.{key}"))
    except TooComplex as exc:
        return Decision.deny(reason, f"{what}: {exc}")
    for leaf in leaves:
        s = find_secrets(leaf.text) if want_secrets else []
        p = find_pii(leaf.text) if want_pii else []
        secrets.extend((leaf.path, f) for f in s)
        pii.extend((leaf.path, f) for f in p)
        if s or p:
            by_leaf[leaf.location] = (leaf.text, s, p)
    if not secrets and not pii:
        return None
    details: dict[str, Any] = {
        "paths": sorted({p for p, _ in secrets + pii})[:20],
        "rules": sorted({f.rule for _, f in secrets + pii}),
    }
    if secrets and outbound:
        return Decision.deny(
            "content.exfiltration",
            f"secret in the {what} (outbound): attempted exfiltration blocked",
            **details,
        )
    actions = ([policy.argument_secrets] if secrets else []) + ([policy.argument_pii] if pii else [])
    if "block" in actions:
        return Decision.deny(reason, f"sensitive data in the {what}", **details)
    if "redact" in actions:
        redactor = Redactor()
        edits: dict[tuple[str | int, ...], str] = {}
        for loc, (text, s, p) in by_leaf.items():
            chosen = (s if policy.argument_secrets == "redact" else []) + (
                p if policy.argument_pii == "redact" else []
            )
            if chosen:
                edits[(key, *loc)] = redactor.redact(text, chosen)
        return Decision.rewrite(replace_leaves(holder, edits), redacted_reason, None, **details)
    if "log" in actions:
        return Decision.alert(reason, f"sensitive data in the {what}", **details)
    return None
