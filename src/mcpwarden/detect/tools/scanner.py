"""Scan one tool definition: character tricks, rules, encoded payloads, shape, learned score.

The rule layer explains (every finding has a rule id and a JSON path); the learned layer
(`model.py`) turns the findings plus the wording into one calibrated score. Both are pure
functions of the tool object, so the gateway, the scanner and the benchmark agree.
"""

from __future__ import annotations

from typing import Any

import re2

from mcpwarden.detect.findings import Detection, Finding, Severity
from mcpwarden.detect.tools.analysis import ToolAnalysis
from mcpwarden.detect.tools.decode import decode_candidates
from mcpwarden.detect.tools.fields import TextField, iter_fields
from mcpwarden.detect.tools.model import combined_score
from mcpwarden.detect.tools.normalize import Normalized, normalize, scripts_of
from mcpwarden.detect.tools.rules import (
    LOOKUP_GUIDANCE,
    PARAM_FIELD_SET,
    PARAM_NAME_SET,
    PRECONDITION_RULES,
    PROSE_SET,
    SENSITIVE,
    Rule,
    RuleSet,
)
from mcpwarden.detect.tools.tokens import identifiers, words

DEFAULT_THRESHOLD = 0.5
MAX_TEXT = 20_000  # per field; longer text is scanned in its first and last part
MAX_DECODE_DEPTH = 2

_URL = re2.compile(r"https?://[^\s'\"<>)\]]+")
_EMAIL = re2.compile(r"\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b")

# The hard evidence: no benign tool needs these, so they floor the final score.
DECISIVE_RULES = frozenset(
    {"unicode-tag-smuggling", "bidi-control", "ansi-escape", "homoglyph-name", "encoded-payload"}
)


def _clip(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    half = MAX_TEXT // 2
    return text[:half] + "\n" + text[-half:]


def _sentence(norm: str, start: int, end: int) -> str:
    """The sentence (or line) around [start, end) of `norm`: a stop counts only before a space,
    so a path such as `~/.ssh/id_rsa` stays inside its sentence."""
    lo = max(norm.rfind(c, 0, start) for c in (". ", "! ", "? ", "\n"))
    lo = 0 if lo < 0 else lo + 1
    highs = [i for i in (norm.find(c, end) for c in (". ", "! ", "? ", "\n")) if i >= 0]
    return norm[lo : min(highs) if highs else len(norm)]


def _is_guidance(norm: str, start: int, end: int) -> bool:
    """A precondition that only says where to look up an input of this tool (LOOKUP_GUIDANCE)."""
    sentence = _sentence(norm, start, end)
    return LOOKUP_GUIDANCE.search(sentence) is not None and SENSITIVE.search(sentence) is None


def _first_match(rule: Rule, norm: str) -> re2._Match[str] | None:
    """The rule's first match, skipping genuine lookup guidance for the precondition rules."""
    if rule.id not in PRECONDITION_RULES:
        return rule.pattern.search(norm)
    for m in rule.pattern.finditer(norm):
        if not _is_guidance(norm, m.start(), m.end()):
            return m
    return None


def _rule_hits(rules: RuleSet, norm: str, field_: TextField) -> list[Finding]:
    out: list[Finding] = []
    for rule in rules.matching(norm):
        m = _first_match(rule, norm)
        if m is not None:
            snippet = norm[max(0, m.start() - 10) : m.end() + 10].strip()
            out.append(
                Finding(
                    rule.id,
                    rule.severity,
                    f"{rule.message}: “{snippet[:120]}”",
                    field_.path,
                    score=rule.weight,
                )
            )
    return out


def _char_findings(n: Normalized, field_: TextField) -> list[Finding]:
    out: list[Finding] = []
    if n.tags:
        hidden = n.tag_payload[:80]
        out.append(
            Finding(
                "unicode-tag-smuggling",
                Severity.CRITICAL,
                f"{n.tags} invisible Unicode tag characters (hidden text: “{hidden}”)",
                field_.path,
                score=0.98,
            )
        )
    if n.bidi:
        out.append(
            Finding(
                "bidi-control",
                Severity.HIGH,
                f"{n.bidi} bidirectional control characters",
                field_.path,
                score=0.9,
            )
        )
    if n.zero_width:
        out.append(
            Finding(
                "zero-width-chars",
                Severity.MEDIUM if n.zero_width < 3 else Severity.HIGH,
                f"{n.zero_width} zero-width characters",
                field_.path,
                score=0.5 if n.zero_width < 3 else 0.8,
            )
        )
    if n.variation >= 8:
        out.append(
            Finding(
                "zero-width-chars",
                Severity.HIGH,
                f"{n.variation} variation selectors (can carry hidden bytes)",
                field_.path,
                score=0.8,
            )
        )
    if n.ansi:
        out.append(
            Finding(
                "ansi-escape",
                Severity.HIGH,
                f"{n.ansi} ANSI terminal escape sequences",
                field_.path,
                score=0.95,
            )
        )
    return out


def _strip_emoji_zwj(text: str) -> str:
    """Drop zero-width joiners inside emoji sequences, the one common benign use."""
    if "\u200d" not in text:
        return text
    chars = list(text)
    for i, ch in enumerate(chars):
        if (
            ch == "\u200d"
            and 0 < i < len(chars) - 1
            and ord(chars[i - 1]) >= 0x2000
            and ord(chars[i + 1]) >= 0x2000
        ):
            chars[i] = ""
    return "".join(chars)


def _identifier_findings(field_: TextField) -> list[Finding]:
    """Homoglyph and mixed-script checks for names, where no natural-language excuse exists."""
    text = field_.text
    if text.isascii():
        return []
    scripts = scripts_of(text)
    folded = normalize(text)
    if (len(scripts) > 1 and "LATIN" in scripts) or (folded.confusables and folded.text.isascii()):
        return [
            Finding(
                "homoglyph-name",
                Severity.HIGH,
                f"identifier mixes scripts or uses look-alike letters ({', '.join(sorted(scripts))}); "
                f"reads as “{folded.text}”",
                field_.path,
                score=0.9,
            )
        ]
    return []


def _mixed_script_words(raw: str, field_: TextField) -> list[Finding]:
    if raw.isascii():
        return []
    for word in raw.split():
        letters = [c for c in word if c.isalpha()]
        if len(letters) < 3:
            continue
        scripts = scripts_of(word)
        if (
            "LATIN" in scripts
            and len(scripts) > 1
            and not scripts <= {"LATIN", "CJK", "HIRAGANA", "KATAKANA"}
        ):
            return [
                Finding(
                    "mixed-script-text",
                    Severity.MEDIUM,
                    f"word mixes scripts ({', '.join(sorted(scripts))}): “{word[:40]}”",
                    field_.path,
                    score=0.6,
                )
            ]
    return []


def _encoded_findings(raw: str, field_: TextField, depth: int = 0) -> list[Finding]:
    out: list[Finding] = []
    for encoding, decoded in decode_candidates(raw):
        n = normalize(decoded)
        inner = _rule_hits(PARAM_FIELD_SET, n.text, field_) + _char_findings(n, field_)
        if depth < MAX_DECODE_DEPTH:
            inner += _encoded_findings(decoded, field_, depth + 1)
        inner = [f for f in inner if f.severity >= Severity.MEDIUM]
        if inner:
            rules = ", ".join(sorted({f.rule for f in inner}))
            out.append(
                Finding(
                    "encoded-payload",
                    Severity.HIGH,
                    f"{encoding} text decodes to content that triggers: {rules} (“{n.text[:80]}”)",
                    field_.path,
                    score=0.95,
                )
            )
    return out


_PLACEHOLDER_HOSTS = (
    "example.com",
    "example.org",
    "example.net",
    "localhost",
    "127.0.0.1",
    ".example",
    ".test",
)


def _is_placeholder(address: str) -> bool:
    """Documentation addresses (RFC 2606 names, localhost) are not sinks."""
    host = address.split("@", 1)[-1].split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host.endswith(_PLACEHOLDER_HOSTS) or host in ("example.com", "localhost")


def _foreign_references(norm: str, own: set[str]) -> set[str]:
    """Tool-like identifiers the text names that are not this tool or its parameters."""
    return {r.replace("-", "_") for r in identifiers(norm)} - own


def analyze_tool(tool: dict[str, Any], *, other_tools: frozenset[str] = frozenset()) -> ToolAnalysis:
    """Run every non-learned check on one tool definition."""
    result = ToolAnalysis()
    name = tool.get("name") if isinstance(tool.get("name"), str) else ""
    assert isinstance(name, str)
    own = {name.lower().replace("-", "_")}
    params: set[str] = set()
    prose: list[str] = []
    schema_words: set[str] = set(words(name.lower().replace("_", " ")))
    fields = list(iter_fields(tool))
    for f in fields:
        if f.kind == "param_name":
            params.add(f.text.lower().replace("-", "_"))
            schema_words |= set(words(f.text.lower().replace("_", " ")))
            if not f.path.startswith("$.outputSchema"):
                result.n_params += 1
        elif f.kind == "value" and ".enum" in f.path:
            own.add(f.text.lower().replace("-", "_"))
    own |= params
    seen_rules: set[tuple[str, str]] = set()
    foreign: set[str] = set()
    for f in fields:
        raw = _clip(f.text)
        if f.kind in ("name", "param_name"):
            result.findings.extend(_identifier_findings(f))
            n = normalize(raw)
            result.findings.extend(_char_findings(n, f))
            if f.kind == "param_name":
                result.findings.extend(_rule_hits(PARAM_NAME_SET, n.text, f))
            continue
        n = normalize(_strip_emoji_zwj(raw))
        result.findings.extend(_char_findings(n, f))
        result.findings.extend(_mixed_script_words(raw, f))
        for hit in _rule_hits(PARAM_FIELD_SET if f.in_param else PROSE_SET, n.text, f):
            key = (hit.rule, f.path)
            if key not in seen_rules:
                seen_rules.add(key)
                result.findings.append(hit)
        if n.tag_payload:
            # The smuggled ASCII is the attack: scan it as text of its own.
            hidden = normalize(n.tag_payload).text
            result.findings.extend(_rule_hits(PARAM_FIELD_SET, hidden, f))
        result.findings.extend(_encoded_findings(raw, f))
        url = next((u for u in _URL.findall(n.text) if not _is_placeholder(u)), None)
        if url is not None:
            result.findings.append(
                Finding("url-reference", Severity.LOW, f"names a URL: {url[:100]}", f.path, score=0.12)
            )
        email = next((e for e in _EMAIL.findall(n.text) if not _is_placeholder(e)), None)
        if email is not None:
            result.findings.append(
                Finding(
                    "email-reference",
                    Severity.LOW,
                    f"names an e-mail address: {email[:80]}",
                    f.path,
                    score=0.2,
                )
            )
        foreign |= _foreign_references(n.text, own)
        prose.append(n.text)
        if f.kind == "description" and f.path == "$.description":
            result.desc_len = len(raw)
    if foreign:
        named_known = foreign & other_tools
        listed = ", ".join(sorted(foreign)[:6])
        if named_known:
            result.findings.append(
                Finding(
                    "cross-tool-reference",
                    Severity.MEDIUM,
                    f"refers to other tools of this list: {', '.join(sorted(named_known)[:6])}",
                    "$.description",
                    score=0.4,
                )
            )
        else:
            result.findings.append(
                Finding(
                    "cross-tool-reference",
                    Severity.LOW,
                    f"names other tool-like identifiers: {listed}",
                    "$.description",
                    score=0.2,
                )
            )
    result.foreign_refs = len(foreign)
    result.text = "\n".join(prose)
    result.findings.extend(_shape_findings(result, schema_words))
    return result


def _shape_findings(result: ToolAnalysis, schema_words: set[str]) -> list[Finding]:
    """Descriptions far longer, or further off-topic, than the tool's name and schema justify."""
    out: list[Finding] = []
    budget = 600 + 150 * result.n_params
    if result.desc_len > max(1500, 3 * budget):
        out.append(
            Finding(
                "oversized-description",
                Severity.LOW,
                f"description is {result.desc_len} characters for {result.n_params} parameters",
                "$.description",
                score=0.15,
            )
        )
    if len(result.text) < 400 or not schema_words:
        return out
    text_words = words(result.text)
    prefixes = {w[:5] for w in schema_words if len(w) >= 3}
    if len(text_words) >= 60:
        overlap = sum(1 for w in text_words if w[:5] in prefixes or w[:4] in prefixes or w[:3] in prefixes)
        if overlap / len(text_words) < 0.02:
            out.append(
                Finding(
                    "off-topic-description",
                    Severity.LOW,
                    "long description barely mentions the tool's own name or parameters",
                    "$.description",
                    score=0.2,
                )
            )
    return out


def scan_tool(
    tool: dict[str, Any], *, threshold: float = DEFAULT_THRESHOLD, other_tools: frozenset[str] = frozenset()
) -> Detection:
    """Score one MCP tool object; `other_tools` are names of its siblings (sharpens cross-references)."""
    if not isinstance(tool, dict):
        raise TypeError("a tool definition must be a JSON object")
    analysis = analyze_tool(tool, other_tools=other_tools)
    score = combined_score(analysis)
    if any(f.rule in DECISIVE_RULES for f in analysis.findings):
        score = max(score, 0.95)
    findings = sorted(analysis.findings, key=lambda f: (-int(f.severity), f.path or "", f.rule))
    return Detection(score=score, flagged=score >= threshold, findings=findings)


def scan_tool_list(
    tools: list[dict[str, Any]], *, threshold: float = DEFAULT_THRESHOLD
) -> dict[str, Detection]:
    """Scan a server's whole tools/list; siblings' names sharpen cross-tool findings."""
    names = frozenset(
        t["name"].lower().replace("-", "_")
        for t in tools
        if isinstance(t, dict) and isinstance(t.get("name"), str)
    )
    out: dict[str, Detection] = {}
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            continue
        key = tool.get("name") if isinstance(tool.get("name"), str) else f"#{i}"
        assert isinstance(key, str)
        own = key.lower().replace("-", "_")
        out[key] = scan_tool(tool, threshold=threshold, other_tools=names - {own})
    return out
