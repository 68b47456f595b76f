"""Deny-by-default authorization: roles from token claims, rules over upstreams,
tools, resources and prompts, and argument constraints checked on every call."""

from mcpwarden.policy.constraints import Violation
from mcpwarden.policy.engine import ALLOWED, ARGUMENT, DENIED, NO_RULE, PolicyDecision, PolicyEngine
from mcpwarden.policy.model import Kind, PolicyDocument, Rule, load_policy, parse_policy

__all__ = [
    "ALLOWED",
    "ARGUMENT",
    "DENIED",
    "NO_RULE",
    "Kind",
    "PolicyDecision",
    "PolicyDocument",
    "PolicyEngine",
    "Rule",
    "Violation",
    "load_policy",
    "parse_policy",
]
