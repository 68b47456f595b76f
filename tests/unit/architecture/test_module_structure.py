"""The package's shape: no import cycles among mcpwarden modules, and no oversized module.

The import graph is built from the source with `ast`, counting every import a module
makes (top level, inside functions, and under `TYPE_CHECKING`), because a type-only cycle
is still two modules that cannot be understood or changed apart.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mcpwarden

PACKAGE_ROOT = Path(mcpwarden.__file__).resolve().parent
MAX_MODULE_LINES = 450


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE_ROOT.rglob("*.py"))}


def _resolve_base(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _nearest_module(name: str, known: dict[str, Path]) -> str | None:
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph(known: dict[str, Path]) -> dict[str, set[str]]:
    """Edges from each mcpwarden module to the mcpwarden modules it imports."""
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve_base(module, path, node)
                # `from pkg import sub` imports the submodule when one exists by that name.
                targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
            for target in targets:
                if not target.startswith("mcpwarden"):
                    continue
                resolved = _nearest_module(target, known)
                if resolved is not None and resolved != module:
                    edges.add(resolved)
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        # Iterative depth-first search, so a deep graph cannot hit the recursion limit.
        work: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            if successors:
                nxt = successors.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return components


def test_cycle_finder_reports_a_cycle_of_three_modules() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]


def test_cycle_finder_accepts_a_diamond() -> None:
    graph = {"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": set()}
    assert find_cycles(graph) == []


def test_import_graph_sees_type_checking_and_relative_imports(tmp_path: Path) -> None:
    known = {"mcpwarden.x": tmp_path / "x.py", "mcpwarden.y": tmp_path / "y.py"}
    known["mcpwarden.x"].write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mcpwarden.y import Thing\n"
    )
    known["mcpwarden.y"].write_text("def f():\n    from .x import g\n")
    graph = import_graph(known)
    assert graph == {"mcpwarden.x": {"mcpwarden.y"}, "mcpwarden.y": {"mcpwarden.x"}}
    assert find_cycles(graph) == [["mcpwarden.x", "mcpwarden.y"]]


def test_import_graph_covers_the_gateway_session_parts() -> None:
    graph = import_graph(_modules())
    assert "mcpwarden.gateway.session" in graph["mcpwarden.gateway.core"]
    assert "mcpwarden.types" in graph["mcpwarden.gateway.session"]


def test_no_import_cycles_among_mcpwarden_modules() -> None:
    assert find_cycles(import_graph(_modules())) == []


def test_shared_types_module_imports_nothing_of_the_project() -> None:
    assert import_graph(_modules())["mcpwarden.types"] == set()


@pytest.mark.parametrize("module", sorted(_modules()))
def test_module_is_at_most_450_lines(module: str) -> None:
    lines = len(_modules()[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines"
