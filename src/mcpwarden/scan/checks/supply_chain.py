"""Unpinned packages, floating tags, undigested images, typosquats, known-vulnerable versions."""

from __future__ import annotations

from mcpwarden.scan.analysis import ServerAnalysis
from mcpwarden.scan.checks.base import CheckContext
from mcpwarden.scan.model import Issue
from mcpwarden.scan.packages import PackageRef
from mcpwarden.scan.rules import rule
from mcpwarden.scan.typosquat import find_squat


def _describe(ref: PackageRef) -> str:
    return f"{ref.launcher} {ref.spec}"


def check_pinning(analysis: ServerAnalysis, ctx: CheckContext) -> list[Issue]:
    entry = analysis.entry
    issues: list[Issue] = []
    for ref in analysis.all_packages:
        if ref.pinned:
            continue
        if ref.ecosystem == "docker":
            rule_id = "MCPW-S002" if ref.floating_tag else "MCPW-S003"
            what = "without a tag (implicitly :latest)" if ref.version is None else f"by tag {ref.version!r}"
            message = f"container image {ref.name!r} is referenced {what}, not by @sha256 digest"
        elif ref.floating_tag:
            rule_id = "MCPW-S002"
            message = f"{_describe(ref)} follows the moving tag 'latest'"
        elif ref.ecosystem == "git":
            rule_id = "MCPW-S001"
            message = f"{_describe(ref)} installs from git without pinning a commit hash"
        else:
            rule_id = "MCPW-S001"
            how = "without a version" if ref.version is None else f"with the range or tag {ref.version!r}"
            message = f"{_describe(ref)} runs {ref.ecosystem} package {ref.name!r} {how}"
        issues.append(
            Issue.at(entry, rule_id, rule(rule_id).severity, message, field_name=ref.field, package=ref.spec)
        )
    return issues


def check_typosquat(analysis: ServerAnalysis, ctx: CheckContext) -> list[Issue]:
    issues: list[Issue] = []
    for ref in analysis.packages:
        if ref.ecosystem not in ("npm", "pypi"):
            continue
        match = find_squat(ref.ecosystem, ref.name, ctx.known)
        if match is None:
            continue
        how = {
            "scope": "a look-alike scope of",
            "confusable": "confusable with",
            "edit-distance": "one typo from",
        }
        issues.append(
            Issue.at(
                analysis.entry,
                "MCPW-S012",
                rule("MCPW-S012").severity,
                f"{ref.ecosystem} package {ref.name!r} is {how[match.reason]} "
                f"the well-known {match.known.name!r}",
                field_name=ref.field,
                package=ref.name,
                resembles=match.known.name,
                reason=match.reason,
            )
        )
    return issues


def check_vulnerable(analysis: ServerAnalysis, ctx: CheckContext) -> list[Issue]:
    if ctx.osv is None:
        return []
    issues: list[Issue] = []
    for ref in analysis.packages:
        version = ref.exact_version
        if version is None or ref.ecosystem not in ("npm", "pypi"):
            continue
        for adv in ctx.osv.lookup(ref.ecosystem, ref.name, version):
            ids = ", ".join((adv.id, *adv.aliases))
            fixed = f"; fixed in {', '.join(adv.fixed)}" if adv.fixed else "; no fixed version listed"
            issues.append(
                Issue.at(
                    analysis.entry,
                    "MCPW-S013",
                    adv.severity,
                    f"{ref.name}@{version} is affected by {ids}: {adv.summary}{fixed}",
                    field_name=ref.field,
                    package=ref.name,
                    version=version,
                    advisory=adv.id,
                    cvss=adv.score,
                )
            )
    return issues
