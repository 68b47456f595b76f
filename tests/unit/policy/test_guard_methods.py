"""Every request method is under policy, deny by default (issue 11, item 3).

Completions are decided by what their `ref` names, subscriptions by the read rules for
the URI, session-level methods by access to the upstream, and any other method only by
an explicit `methods:` grant.
"""

import asyncio
from typing import Any

from mcpwarden.guards.policy import PolicyGuard
from mcpwarden.types import Decision, Exchange, Principal

from .policy_helpers import ROLES_FROM_ROLES_CLAIM, engine_for, principal

POLICY: dict[str, Any] = {
    "roles": ROLES_FROM_ROLES_CLAIM,
    "rules": [
        {"id": "docs", "roles": ["reader"], "upstreams": ["fs"], "resources": ["file:///srv/docs/**"]},
        {"id": "no-secrets", "effect": "deny", "roles": ["*"], "resources": ["file:///srv/docs/secret/**"]},
        {"id": "summarize", "roles": ["reader"], "upstreams": ["fs"], "prompts": ["summarize"]},
        {
            "id": "translate",
            "roles": ["reader"],
            "upstreams": ["fs"],
            "prompts": ["translate"],
            "arguments": {"lang": {"enum": ["en", "fr"]}},
        },
        {"id": "vendor", "roles": ["vendor"], "upstreams": ["fs"], "methods": ["vendor/search", "acme/*"]},
        {"id": "no-wipe", "effect": "deny", "roles": ["*"], "upstreams": ["fs"], "methods": ["acme/wipe"]},
        {"id": "closed", "effect": "deny", "roles": ["banned"], "upstreams": ["fs"]},
    ],
}
READER = principal(roles=["reader"])
NOBODY = principal()
VENDOR = principal(roles=["vendor"])


def decide(
    method: str, params: dict[str, Any], who: Principal = READER, upstream: str = "fs"
) -> Decision | None:
    guard = PolicyGuard(engine_for(POLICY))
    return asyncio.run(guard.request(Exchange(method=method, upstream=upstream, principal=who), params))


def denied_as(decision: Decision | None, reason: str) -> bool:
    return decision is not None and decision.kind == "deny" and decision.reason == reason


def prompt_ref(name: Any) -> dict[str, Any]:
    return {"ref": {"type": "ref/prompt", "name": name}, "argument": {"name": "lang", "value": "e"}}


def resource_ref(uri: Any) -> dict[str, Any]:
    return {"ref": {"type": "ref/resource", "uri": uri}, "argument": {"name": "path", "value": "a"}}


# ---------------------------------------------------------------- completion/complete


def test_completion_for_a_granted_prompt_passes() -> None:
    assert decide("completion/complete", prompt_ref("summarize")) is None


def test_completion_for_an_ungranted_prompt_is_denied_as_no_rule() -> None:
    assert denied_as(decide("completion/complete", prompt_ref("jailbreak")), "policy.no_rule")


def test_completion_for_a_prompt_granted_with_argument_constraints_passes() -> None:
    assert decide("completion/complete", prompt_ref("translate")) is None


def test_completion_by_a_caller_without_roles_is_denied() -> None:
    assert denied_as(decide("completion/complete", prompt_ref("summarize"), NOBODY), "policy.no_rule")


def test_completion_for_a_readable_resource_uri_passes() -> None:
    assert decide("completion/complete", resource_ref("file:///srv/docs/a.md")) is None


def test_completion_for_an_unreadable_resource_uri_is_denied() -> None:
    assert denied_as(decide("completion/complete", resource_ref("file:///etc/passwd")), "policy.no_rule")


def test_completion_for_a_traversing_resource_uri_is_denied() -> None:
    decision = decide("completion/complete", resource_ref("file:///srv/docs/%2e%2e/%2e%2e/etc/passwd"))
    assert decision is not None and decision.kind == "deny"


def test_completion_for_a_template_inside_the_grant_passes() -> None:
    assert decide("completion/complete", resource_ref("file:///srv/docs/{path}")) is None


def test_completion_for_a_template_outside_the_grant_is_denied() -> None:
    assert denied_as(decide("completion/complete", resource_ref("db://{table}")), "policy.no_rule")


def test_completion_for_a_template_under_a_deny_rule_names_the_rule() -> None:
    decision = decide("completion/complete", resource_ref("file:///srv/docs/secret/{name}"))
    assert denied_as(decision, "policy.denied")
    assert decision is not None and decision.details is not None and decision.details["rule"] == "no-secrets"


def test_completion_with_unknown_ref_type_is_denied() -> None:
    params = {"ref": {"type": "ref/tool", "name": "x"}, "argument": {"name": "a", "value": ""}}
    assert denied_as(decide("completion/complete", params), "policy.no_rule")


def test_completion_without_ref_is_denied() -> None:
    params = {"argument": {"name": "a", "value": ""}}
    assert denied_as(decide("completion/complete", params), "policy.no_rule")


def test_completion_with_a_prompt_ref_that_is_not_a_string_is_denied() -> None:
    assert denied_as(decide("completion/complete", prompt_ref(["summarize"])), "policy.no_rule")


# ---------------------------------------------------------------- resources/subscribe, unsubscribe


def test_subscribe_to_a_readable_resource_passes() -> None:
    assert decide("resources/subscribe", {"uri": "file:///srv/docs/a.md"}) is None


def test_subscribe_to_an_unreadable_resource_is_denied() -> None:
    assert denied_as(decide("resources/subscribe", {"uri": "file:///etc/shadow"}), "policy.no_rule")


def test_subscribe_to_a_denied_resource_names_the_deny_rule() -> None:
    decision = decide("resources/subscribe", {"uri": "file:///srv/docs/secret/k"})
    assert denied_as(decision, "policy.denied")


def test_subscribe_without_uri_is_denied() -> None:
    assert denied_as(decide("resources/subscribe", {}), "policy.no_rule")


def test_unsubscribe_from_an_unreadable_resource_is_denied() -> None:
    assert denied_as(decide("resources/unsubscribe", {"uri": "file:///etc/shadow"}), "policy.no_rule")


def test_unsubscribe_from_a_readable_resource_passes() -> None:
    assert decide("resources/unsubscribe", {"uri": "file:///srv/docs/a.md"}) is None


# ---------------------------------------------------------------- session-level methods


def test_ping_passes_for_a_caller_with_any_rule_for_the_upstream() -> None:
    assert decide("ping", {}) is None


def test_ping_is_denied_for_a_caller_without_a_rule_for_the_upstream() -> None:
    assert denied_as(decide("ping", {}, NOBODY), "policy.no_rule")


def test_list_is_denied_on_an_upstream_the_caller_has_no_rule_for() -> None:
    assert denied_as(decide("tools/list", {}, upstream="mail"), "policy.no_rule")


def test_logging_set_level_needs_access_to_the_upstream() -> None:
    assert decide("logging/setLevel", {"level": "debug"}) is None
    assert denied_as(decide("logging/setLevel", {"level": "debug"}, NOBODY), "policy.no_rule")


def test_upstream_level_deny_closes_session_methods() -> None:
    who = principal(roles=["reader", "banned"])
    assert denied_as(decide("resources/templates/list", {}, who), "policy.denied")


def test_call_methods_are_left_to_their_own_hooks() -> None:
    assert decide("tools/call", {"name": "anything"}, NOBODY) is None


# ---------------------------------------------------------------- other methods


def test_unknown_method_is_denied_without_a_methods_grant() -> None:
    decision = decide("vendor/search", {}, READER)
    assert denied_as(decision, "policy.no_rule")
    assert decision is not None and "vendor/search" in decision.message


def test_method_granted_by_name_passes() -> None:
    assert decide("vendor/search", {}, VENDOR) is None


def test_method_granted_by_glob_passes() -> None:
    assert decide("acme/export", {}, VENDOR) is None


def test_method_deny_rule_overrides_a_glob_grant() -> None:
    assert denied_as(decide("acme/wipe", {}, VENDOR), "policy.denied")


def test_method_grant_is_limited_to_its_upstream() -> None:
    assert denied_as(decide("vendor/search", {}, VENDOR, upstream="mail"), "policy.no_rule")


def test_method_from_a_later_revision_is_denied_by_default() -> None:
    assert denied_as(decide("tasks/list", {}, READER), "policy.no_rule")


def test_methods_grant_gives_no_tool() -> None:
    guard = PolicyGuard(engine_for(POLICY))
    ex = Exchange(method="tools/call", upstream="fs", principal=VENDOR)
    decision = asyncio.run(guard.tool_call(ex, {"name": "read_file", "arguments": {}}))
    assert denied_as(decision, "policy.no_rule")
