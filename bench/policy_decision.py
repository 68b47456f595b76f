"""Cost of one policy decision with 100 rules, in microseconds per operation.

Run: .venv/bin/python bench/policy_decision.py [--rules 100] [--n 20000]

The policy spreads 100 rules over 10 upstreams (allow rules with exact names, globs,
argument constraints, and some deny rules), so each decision sees about 10 candidate
rules, as a real multi-upstream gateway would. Reports the best of several repeats to
keep noise from other processes out of the number.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from mcpwarden.policy import PolicyEngine, parse_policy
from mcpwarden.types import Principal


def build_policy(n_rules: int) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    for i in range(n_rules):
        upstream = f"up{i % 10}"
        if i % 10 == 9:
            rules.append(
                {
                    "id": f"deny{i}",
                    "effect": "deny",
                    "roles": ["*"],
                    "upstreams": [upstream],
                    "tools": [f"danger{i}_*"],
                }
            )
        elif i % 3 == 0:
            rules.append(
                {
                    "id": f"files{i}",
                    "roles": [f"role{i % 7}", "reader"],
                    "upstreams": [upstream],
                    "tools": [f"read{i}", f"list{i}_*"],
                    "arguments": {
                        "path": {"path_prefix": f"/srv/data{i}"},
                        "q": {"regex": "[a-z0-9 ]{1,64}", "optional": True},
                        "limit": {"min": 1, "max": 100, "optional": True},
                    },
                    "resources": [f"file:///srv/data{i}/**"],
                }
            )
        else:
            rules.append(
                {
                    "id": f"tools{i}",
                    "roles": [f"role{i % 7}"],
                    "upstreams": [upstream],
                    "tools": [f"tool{i}", f"search{i}*", f"*_{i}"],
                    "prompts": [f"prompt{i}"],
                }
            )
    return {
        "roles": {
            "claims": [{"path": "roles"}, {"path": "scp", "prefix": "scope:"}, {"path": "realm_access.roles"}]
        },
        "rules": rules,
    }


def measure(fn: Callable[[], object], n: int, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()

    start = time.perf_counter()
    engine = PolicyEngine(parse_policy(build_policy(args.rules)))
    compile_ms = (time.perf_counter() - start) * 1e3
    who = Principal(
        subject="alice",
        claims={
            "roles": ["reader", "role3"],
            "scp": "files.read mail.read",
            "realm_access": {"roles": ["x"]},
        },
    )
    roles = engine.roles_of(who)
    tools = [f"tool{i}" for i in range(50)]
    cases: list[tuple[str, Callable[[], object]]] = [
        ("roles from claims", lambda: engine.roles_of(who)),
        ("tool allowed, exact name", lambda: engine.decide(who, "up3", "tool", "tool3")),
        ("tool allowed, glob", lambda: engine.decide(who, "up3", "tool", "search3_docs")),
        (
            "tool allowed, path+regex+range args",
            lambda: engine.decide(
                who, "up0", "tool", "read0", {"path": "/srv/data0/a/b.txt", "q": "abc", "limit": 5}
            ),
        ),
        (
            "tool denied, path traversal",
            lambda: engine.decide(who, "up0", "tool", "read0", {"path": "/srv/data0/%2e%2e/etc/passwd"}),
        ),
        ("tool denied, no rule", lambda: engine.decide(who, "up5", "tool", "nothing_here")),
        ("tool denied, deny rule", lambda: engine.decide(who, "up9", "tool", "danger99_x")),
        ("resource allowed", lambda: engine.decide(who, "up0", "resource", "file:///srv/data0/x/y.md")),
        (
            "decide_for_roles (roles precomputed)",
            lambda: engine.decide_for_roles(roles, "up3", "tool", "tool3"),
        ),
    ]
    print(f"policy: {args.rules} rules over 10 upstreams; compile {compile_ms:.1f} ms")
    print(f"{'operation':42s} {'us/op':>9s}")
    for label, fn in cases:
        print(f"{label:42s} {measure(fn, args.n):9.2f}")
    per_list = measure(lambda: engine.visible(who, "up3", "tool", tools), max(args.n // 50, 100))
    print(f"{'tools/list filter, 50 tools':42s} {per_list:9.2f}  ({per_list / 50:.2f} per tool)")


if __name__ == "__main__":
    main()
