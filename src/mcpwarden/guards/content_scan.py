"""Inspect one whole message: injection over its natural-language strings, secrets everywhere.

This is the content guard's single pass over whatever a hook hands it (a result, an error,
a notification, a server request, a client's answer). It walks every string leaf
(`traversal.walk`), then:

* joins the natural-language leaves into one text and scores it once with `scan_text`,
  so the cost is one linear scan per message rather than a model call per field, and
  maps each injection finding back to the leaves its span touches. A string that occurs
  several times (the same text in `content` and in `structuredContent`) is scanned once;
* looks for secrets (and PII, when asked) in every leaf that is not protocol plumbing or
  binary, and records the redacted text as an edit at the leaf's location.

Nothing is changed here: the caller decides, per channel and policy, whether to apply the
edits, withhold or annotate the flagged leaves, or refuse the message. Every finding keeps
the JSON path of its leaf so that the audit record says exactly where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcpwarden.detect.findings import Finding
from mcpwarden.detect.text import Redactor, find_pii, find_secrets, scan_text
from mcpwarden.guards.traversal import Leaf, walk

if TYPE_CHECKING:
    from mcpwarden.detect.text.minilm import SmallModel

SEPARATOR = "\n\n"
MIN_SENSITIVE_LEN = 6  # shorter strings cannot hold a secret or an e-mail address
MAX_REPORTED = 50  # findings listed per audit record (the count is always exact)
# A flagged message whose finding spans several strings re-scores up to this many of them
# one by one, to withhold or annotate only the ones that carry the injection.
RESCORE_LIMIT = 64

Location = tuple[str | int, ...]


@dataclass(slots=True)
class Inspection:
    """What one message contains: its injection score and findings, and redaction edits."""

    score: float = 0.0
    threshold: float = 1.0
    findings: list[tuple[str, Finding]] = field(default_factory=list)
    edits: dict[Location, str] = field(default_factory=dict)
    injected: list[Leaf] = field(default_factory=list)  # natural-language leaves an injection touches
    leaves: list[Leaf] = field(default_factory=list)
    redactor: Redactor = field(default_factory=Redactor)
    small_model: SmallModel | None = None  # the cascade's second tier, when the policy asks for it

    @property
    def flagged(self) -> bool:
        return self.score >= self.threshold

    def details(self) -> dict[str, Any]:
        """The audit record's view: score, rules, and each finding with its JSON path."""
        rules = sorted({f.rule for _, f in self.findings})
        listed = [{"path": p, **f.to_dict()} for p, f in self.findings[:MAX_REPORTED]]
        for entry in listed:
            entry.pop("message", None)
        return {
            "score": round(self.score, 4),
            "rules": rules[:20],
            "redacted": self.redactor.count,
            "paths": sorted({p for p, _ in self.findings})[:MAX_REPORTED],
            "findings": listed,
            "finding_count": len(self.findings),
        }


def inspect(
    payload: Any,
    *,
    threshold: float,
    injection: bool = True,
    secrets: bool = True,
    pii: bool = False,
    root: str = "$",
    redactor: Redactor | None = None,
    small_model: SmallModel | None = None,
) -> Inspection:
    """Walk `payload` once and report what it holds; raises `traversal.TooComplex`."""
    out = Inspection(threshold=threshold, redactor=redactor or Redactor(), small_model=small_model)
    out.leaves = list(walk(payload, root))
    if injection:
        _score(out)
    if secrets or pii:
        _sensitive(out, secrets=secrets, pii=pii)
    return out


def _score(out: Inspection) -> None:
    natural = [leaf for leaf in out.leaves if leaf.kind == "natural" and leaf.text.strip()]
    if not natural:
        return
    # One copy of each distinct text, at its offset in the joined text.
    offsets: dict[str, int] = {}
    parts: list[str] = []
    pos = 0
    for leaf in natural:
        if leaf.text in offsets:
            continue
        offsets[leaf.text] = pos
        parts.append(leaf.text)
        pos += len(leaf.text) + len(SEPARATOR)
    detection = scan_text(SEPARATOR.join(parts), threshold=out.threshold, small_model=out.small_model)
    out.score = detection.score
    hits = [f for f in detection.findings if f.rule.startswith("injection.")]
    if not hits:
        return
    # Which distinct texts each finding touches; a document-window verdict of the model
    # may span several short strings, so those are sorted out below.
    touched: dict[str, list[tuple[Finding, tuple[int, int]]]] = {}
    for text, start in offsets.items():
        end = start + len(text)
        for f in hits:
            if f.span is not None and f.span[0] < end and start < f.span[1]:
                span = (max(f.span[0], start) - start, min(f.span[1], end) - start)
                touched.setdefault(text, []).append((f, span))
    carriers = set(touched)
    if out.flagged and len(carriers) > 1:
        alone = {
            t
            for t in list(carriers)[:RESCORE_LIMIT]
            if scan_text(t, threshold=out.threshold, small_model=out.small_model).flagged
        }
        carriers = alone or carriers
    carrying: dict[str, list[Leaf]] = {}
    for leaf in natural:
        if leaf.text in touched:
            carrying.setdefault(leaf.text, []).append(leaf)
    for text, found in touched.items():
        for f, span in found:
            if f.rule != "injection.model" or text in carriers:
                # every string holding this text, not only the one that was scored
                out.findings.extend((leaf.path, _with_span(f, span)) for leaf in carrying[text])
    if out.flagged:
        out.injected = [leaf for leaf in natural if leaf.text in carriers] or natural


def _with_span(f: Finding, span: tuple[int, int]) -> Finding:
    return Finding(f.rule, f.severity, f.message, f.path, span, f.score)


def _sensitive(out: Inspection, *, secrets: bool, pii: bool) -> None:
    cache: dict[str, list[Finding]] = {}
    for leaf in out.leaves:
        if leaf.kind in {"structural", "binary"} or len(leaf.text) < MIN_SENSITIVE_LEN:
            continue
        found = cache.get(leaf.text)
        if found is None:
            found = []
            if secrets:
                found.extend(find_secrets(leaf.text))
            if pii:
                found.extend(find_pii(leaf.text))
            cache[leaf.text] = found
        if not found:
            continue
        out.findings.extend((leaf.path, f) for f in found)
        out.edits[leaf.location] = out.redactor.redact(leaf.text, found)
