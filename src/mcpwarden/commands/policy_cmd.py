"""`mcpwarden policy explain|test|unused`: understand, test and trim a policy.

- `explain` decides one call for given claims and prints the deciding rule and why;
  exit 0 when allowed, 1 when denied.
- `test` runs YAML policy cases; exit 1 when any case fails.
- `unused` lists grants that the audit trail shows were never used in a window.

Bad input (unreadable files, invalid policy, malformed JSON) exits 2 via UsageError.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpwarden.cli import EXIT_FINDINGS, EXIT_OK, UsageError

# The policy engine, YAML, pydantic and rich are imported by the actions that use them, so
# that `mcpwarden policy --help` starts as fast as a bare interpreter (see bench/cli_startup.py).
if TYPE_CHECKING:
    from rich.console import Console

    from mcpwarden.policy.engine import PolicyDecision, PolicyEngine
    from mcpwarden.policy.model import Kind


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "policy",
        help="explain, test and audit least-privilege policies",
        description="Explain decisions, run policy test cases, and report unused grants.",
    )
    parser.set_defaults(handler=_missing_action)
    actions = parser.add_subparsers(dest="policy_action", metavar="ACTION")

    p_explain = actions.add_parser(
        "explain",
        help="show which rule allows or denies one call, and why",
        description="Decide one call for the given claims; exit 0 if allowed, 1 if denied.",
    )
    p_explain.add_argument("-p", "--policy", required=True, type=Path, metavar="POLICY.yaml")
    p_explain.add_argument(
        "--claims", required=True, metavar="CLAIMS.json", help="token claims: a JSON file, or inline JSON"
    )
    p_explain.add_argument("--upstream", required=True, metavar="U")
    target = p_explain.add_mutually_exclusive_group()
    target.add_argument("--tool", metavar="T")
    target.add_argument("--resource", metavar="URI")
    target.add_argument("--prompt", metavar="P")
    target.add_argument("--method", metavar="M", help="a method granted by `methods:` rules (e.g. vendor/x)")
    p_explain.add_argument("--args", metavar="JSON", help="call arguments: inline JSON object or @FILE")
    p_explain.add_argument("--json", action="store_true", help="print the decision as JSON")
    p_explain.set_defaults(handler=_explain)

    p_test = actions.add_parser(
        "test",
        help="run YAML policy test cases",
        description="Run each case through the policy; exit 1 if any case fails.",
    )
    p_test.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p_test.add_argument("-p", "--policy", type=Path, metavar="POLICY.yaml", help="override the files' policy")
    p_test.set_defaults(handler=_test)

    p_unused = actions.add_parser(
        "unused",
        help="list granted permissions never used according to the audit trail",
        description="List grants (rule, role, upstream, pattern) with no allowed request in the window.",
    )
    p_unused.add_argument("-p", "--policy", required=True, type=Path, metavar="POLICY.yaml")
    p_unused.add_argument(
        "--audit", required=True, action="append", type=Path, metavar="AUDIT.jsonl", help="repeatable"
    )
    p_unused.add_argument("--since", default="30d", metavar="DURATION", help="window, e.g. 30d, 12h (30d)")
    p_unused.add_argument("--now", metavar="TIME", help="end of the window, RFC 3339 (default: now)")
    p_unused.add_argument(
        "--claims-map",
        type=Path,
        metavar="FILE.json",
        help="JSON object mapping audit principal strings to claims, for role attribution",
    )
    p_unused.add_argument("--format", choices=("table", "json"), default="table")
    p_unused.add_argument("--fail-on-unused", action="store_true", help="exit 1 when anything is unused")
    p_unused.set_defaults(handler=_unused)


def _missing_action(args: argparse.Namespace) -> int:
    raise UsageError("choose an action: explain, test or unused (see `mcpwarden policy --help`)")


def _engine(path: Path) -> PolicyEngine:
    import yaml
    from pydantic import ValidationError

    from mcpwarden.policy.engine import PolicyEngine
    from mcpwarden.policy.model import load_policy

    try:
        return PolicyEngine(load_policy(path))
    except OSError as exc:
        raise UsageError(f"cannot read policy {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"policy {path} is not valid YAML: {exc}") from None
    except (ValidationError, ValueError) as exc:
        raise UsageError(f"invalid policy {path}: {exc}") from None


def _json_arg(text: str, what: str, allow_file: Callable[[str], Path | None]) -> Any:
    path = allow_file(text)
    try:
        source = path.read_text(encoding="utf-8") if path is not None else text
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} is not valid JSON: {exc}") from None


def _claims_source(text: str) -> Path | None:
    return None if text.lstrip().startswith("{") else Path(text)


def _args_source(text: str) -> Path | None:
    return Path(text[1:]) if text.startswith("@") else None


def _explain(args: argparse.Namespace) -> int:
    from rich.console import Console

    from mcpwarden.types import Principal

    engine = _engine(args.policy)
    claims = _json_arg(args.claims, "claims", _claims_source)
    if not isinstance(claims, dict):
        raise UsageError("claims must be a JSON object")
    arguments = _json_arg(args.args, "--args", _args_source) if args.args else {}
    if not isinstance(arguments, dict):
        raise UsageError("--args must be a JSON object")
    kind: Kind
    if args.tool is not None:
        kind, name = "tool", args.tool
    elif args.resource is not None:
        kind, name = "resource", args.resource
    elif args.prompt is not None:
        kind, name = "prompt", args.prompt
    elif args.method is not None:
        kind, name = "method", args.method
    else:
        kind, name = "upstream", ""
    who = Principal(subject=str(claims.get("sub", "anonymous")), claims=claims)
    decision = engine.decide(who, args.upstream, kind, name, arguments)
    if args.json:
        print(json.dumps(_decision_dict(decision), indent=2))
    else:
        _print_decision(Console(), decision, kind, name, args.upstream)
    return EXIT_OK if decision.allowed else EXIT_FINDINGS


def _decision_dict(decision: PolicyDecision) -> dict[str, Any]:
    return {
        "allowed": decision.allowed,
        "code": decision.code,
        "rule": decision.rule_id,
        "matched": decision.matched,
        "reason": decision.reason,
        "roles": sorted(decision.roles),
        "violations": [v.to_dict() for v in decision.violations],
    }


def _print_decision(console: Console, decision: PolicyDecision, kind: str, name: str, upstream: str) -> None:
    from rich.table import Table
    from rich.text import Text

    verdict = Text("ALLOW", style="bold green") if decision.allowed else Text("DENY", style="bold red")
    subject = f"upstream {upstream}" if kind == "upstream" else f"{kind} {name} on upstream {upstream}"
    console.print(Text.assemble(verdict, "  ", subject))
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("rule", decision.rule_id or "(none: deny by default)")
    if decision.matched:
        table.add_row("matched", decision.matched)
    table.add_row("code", decision.code)
    table.add_row("reason", decision.reason)
    table.add_row("roles", ", ".join(sorted(decision.roles)) or "(none)")
    console.print(table)
    if decision.violations:
        violations = Table("argument", "constraint", "problem", title="argument violations")
        for v in decision.violations:
            violations.add_row(v.argument, v.constraint, v.message)
        console.print(violations)


def _test(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from mcpwarden.policy.cases import load_cases, run_cases
    from mcpwarden.policy.engine import PolicyEngine

    console = Console()
    failed = total = 0
    for path in args.files:
        try:
            document, cases = load_cases(path, args.policy)
            engine = PolicyEngine(document)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        console.print(Text(str(path), style="bold"))
        for result in run_cases(engine, cases):
            total += 1
            mark = Text("  PASS ", style="green") if result.passed else Text("  FAIL ", style="bold red")
            got = "allow" if result.decision.allowed else "deny"
            console.print(Text.assemble(mark, f"#{result.index} {result.label} ", (f"→ {got}", "dim")))
            if not result.passed:
                failed += 1
                for problem in result.problems:
                    console.print(f"         {problem}")
                console.print(f"         reason: {result.decision.reason}", markup=False)
                for v in result.decision.violations:
                    console.print(f"         {v.argument} ({v.constraint}): {v.message}", markup=False)
    style = "bold red" if failed else "bold green"
    console.print(Text(f"{total - failed} passed, {failed} failed", style=style))
    return EXIT_FINDINGS if failed else EXIT_OK


def _unused(args: argparse.Namespace) -> int:
    from mcpwarden.policy.unused import build_report, parse_duration, parse_time, read_audit

    engine = _engine(args.policy)
    try:
        now = parse_time(args.now) if args.now else datetime.now(UTC)
        since = now - parse_duration(args.since)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    claims_map: dict[str, Any] = {}
    if args.claims_map is not None:
        loaded = _json_arg(str(args.claims_map), "claims map", Path)
        if not isinstance(loaded, dict):
            raise UsageError("the claims map must be a JSON object")
        claims_map = loaded
    for path in args.audit:
        if not path.is_file():
            raise UsageError(f"audit file {path} not found")
    try:
        report = build_report(engine, read_audit(args.audit), since, claims_map)
    except OSError as exc:
        raise UsageError(f"cannot read audit file: {exc}") from None
    unused = report.unused
    if args.format == "json":
        payload = {
            "since": since.isoformat(),
            "events_considered": report.events_considered,
            "events_without_roles": report.events_without_roles,
            "lines_skipped": report.lines_skipped,
            "grants": len(report.grants),
            "unused": [
                {"rule": g.rule, "role": g.role, "upstream": g.upstream, "kind": g.kind, "pattern": g.pattern}
                for g in unused
            ],
        }
        print(json.dumps(payload, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        table = Table(
            "rule", "role", "upstream", "kind", "pattern", title=f"unused since {since:%Y-%m-%d %H:%M}Z"
        )
        for g in unused:
            table.add_row(g.rule, g.role, g.upstream, g.kind, g.pattern)
        console.print(table)
        console.print(
            f"{len(unused)} of {len(report.grants)} grants unused; "
            f"{report.events_considered} allowed requests considered"
        )
        if report.events_without_roles:
            console.print(
                f"{report.events_without_roles} requests had no claims, so they credited every "
                "matching grant (pass --claims-map for sharper attribution)",
                style="yellow",
            )
        if report.lines_skipped:
            console.print(
                f"{report.lines_skipped} lines skipped (not JSON objects or bad time)", style="yellow"
            )
    return EXIT_FINDINGS if unused and args.fail_on_unused else EXIT_OK
