import asyncio
from collections.abc import Coroutine
from typing import Any

from mcpwarden.guards.policy import PolicyGuard
from mcpwarden.types import Decision, Exchange, Principal

from .policy_helpers import ROLES_FROM_ROLES_CLAIM, engine_for, principal

POLICY: dict[str, Any] = {
    "roles": ROLES_FROM_ROLES_CLAIM,
    "rules": [
        {
            "id": "files",
            "roles": ["reader"],
            "upstreams": ["fs"],
            "tools": ["read_file", "list_dir"],
            "arguments": {"path": {"path_prefix": "/srv/docs"}},
        },
        {"id": "no-list", "effect": "deny", "roles": ["*"], "upstreams": ["fs"], "tools": ["list_dir"]},
        {"id": "docs", "roles": ["reader"], "upstreams": ["fs"], "resources": ["file:///srv/docs/**"]},
        {"id": "prompts", "roles": ["reader"], "upstreams": ["fs"], "prompts": ["summarize"]},
    ],
}
READER = principal(roles=["reader"])


def run(coro: Coroutine[Any, Any, Decision | None]) -> Decision | None:
    return asyncio.run(coro)


def guard() -> PolicyGuard:
    return PolicyGuard(engine_for(POLICY))


def ex(method: str, who: Principal = READER, upstream: str = "fs") -> Exchange:
    return Exchange(method=method, upstream=upstream, principal=who)


def call(name: str, arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def test_allowed_tool_call_passes() -> None:
    assert run(guard().tool_call(ex("tools/call"), call("read_file", {"path": "/srv/docs/a"}))) is None


def test_tool_call_without_rule_is_denied_as_no_rule() -> None:
    decision = run(guard().tool_call(ex("tools/call"), call("write_file", {"path": "/srv/docs/a"})))
    assert decision is not None and (decision.kind, decision.reason) == ("deny", "policy.no_rule")


def test_tool_call_hit_by_deny_rule_names_the_rule() -> None:
    decision = run(guard().tool_call(ex("tools/call"), call("list_dir", {"path": "/srv/docs"})))
    assert decision is not None and decision.reason == "policy.denied"
    assert decision.details is not None and decision.details["rule"] == "no-list"


def test_tool_call_with_traversal_argument_is_denied_as_argument() -> None:
    decision = run(guard().tool_call(ex("tools/call"), call("read_file", {"path": "/srv/docs/../../etc"})))
    assert decision is not None and decision.reason == "policy.argument"
    assert decision.details is not None
    assert decision.details["violations"][0]["argument"] == "path"


def test_tool_call_with_non_object_arguments_is_denied() -> None:
    decision = run(guard().tool_call(ex("tools/call"), call("read_file", ["/srv/docs/a"])))
    assert decision is not None and decision.reason == "policy.argument"


def test_tool_call_without_name_is_denied() -> None:
    decision = run(guard().tool_call(ex("tools/call"), {"arguments": {}}))
    assert decision is not None and decision.kind == "deny"


def test_resource_read_outside_grant_is_denied() -> None:
    decision = run(guard().resource_read_request(ex("resources/read"), {"uri": "file:///etc/passwd"}))
    assert decision is not None and decision.reason == "policy.no_rule"


def test_resource_read_inside_grant_passes() -> None:
    params = {"uri": "file:///srv/docs/a.md"}
    assert run(guard().resource_read_request(ex("resources/read"), params)) is None


def test_prompt_get_for_ungranted_prompt_is_denied() -> None:
    decision = run(guard().prompt_get_request(ex("prompts/get"), {"name": "jailbreak"}))
    assert decision is not None and decision.kind == "deny"


def test_tools_list_is_filtered_to_callable_tools() -> None:
    result = {"tools": [{"name": "read_file"}, {"name": "list_dir"}, {"name": "rm"}], "nextCursor": "c"}
    decision = run(guard().tools_list(ex("tools/list"), result))
    assert decision is not None and decision.kind == "rewrite"
    assert decision.value == {"tools": [{"name": "read_file"}], "nextCursor": "c"}


def test_tools_list_passes_unchanged_when_all_visible() -> None:
    assert run(guard().tools_list(ex("tools/list"), {"tools": [{"name": "read_file"}]})) is None


def test_tools_list_is_emptied_for_caller_without_roles() -> None:
    decision = run(guard().tools_list(ex("tools/list", principal()), {"tools": [{"name": "read_file"}]}))
    assert decision is not None and decision.value == {"tools": []}


def test_resources_list_is_filtered_by_uri() -> None:
    result = {"resources": [{"uri": "file:///srv/docs/a"}, {"uri": "file:///etc/shadow"}]}
    decision = run(guard().resources_list(ex("resources/list"), result))
    assert decision is not None and decision.value == {"resources": [{"uri": "file:///srv/docs/a"}]}


def test_resource_templates_list_is_filtered() -> None:
    result = {"resourceTemplates": [{"uriTemplate": "file:///srv/docs/{p}"}, {"uriTemplate": "db://{t}"}]}
    decision = run(guard().resource_templates_list(ex("resources/templates/list"), result))
    assert decision is not None
    assert decision.value == {"resourceTemplates": [{"uriTemplate": "file:///srv/docs/{p}"}]}


def test_prompts_list_is_filtered() -> None:
    result = {"prompts": [{"name": "summarize"}, {"name": "other"}]}
    decision = run(guard().prompts_list(ex("prompts/list"), result))
    assert decision is not None and decision.value == {"prompts": [{"name": "summarize"}]}
