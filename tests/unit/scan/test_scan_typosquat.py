from __future__ import annotations

import pytest

from mcpwarden.scan.typosquat import KnownPackage, edit_distance, find_squat, known_packages, skeleton


def test_every_curated_name_has_a_source() -> None:
    packages = known_packages()
    assert len(packages) > 50
    assert all(p.source.strip() for p in packages)


@pytest.mark.parametrize(
    ("ecosystem", "name", "resembles", "reason"),
    [
        ("pypi", "mcp-server-fecth", "mcp-server-fetch", "edit-distance"),
        ("npm", "chrome-devtool-mcp", "chrome-devtools-mcp", "edit-distance"),
        ("npm", "rncp-remote", "mcp-remote", "confusable"),
        ("pypi", "mcp-server-g1t", "mcp-server-git", "confusable"),
        ("npm", "@modelcontextprotocoI/server-memory", "@modelcontextprotocol/server-memory", "scope"),
        ("npm", "@upstash/context7-mcp", None, None),
        ("npm", "@upstsah/context7-mcp", "@upstash/context7-mcp", "scope"),
    ],
)
def test_look_alikes_are_caught(ecosystem: str, name: str, resembles: str | None, reason: str | None) -> None:
    match = find_squat(ecosystem, name)
    if resembles is None:
        assert match is None
    else:
        assert match is not None
        assert (match.known.name, match.reason) == (resembles, reason)


def test_pypi_spelling_variants_of_a_known_name_are_the_same_package() -> None:
    assert find_squat("pypi", "MCP_Server.Fetch") is None


def test_same_scope_is_the_same_publisher() -> None:
    assert find_squat("npm", "@modelcontextprotocol/server-map") is None


def test_fork_under_unrelated_scope_is_not_a_squat() -> None:
    assert find_squat("npm", "@acme/server-memory") is None


def test_unrelated_name_is_not_a_squat() -> None:
    assert find_squat("npm", "weather-forecast-mcp") is None


def test_short_names_need_a_confusable_not_just_an_edit() -> None:
    catalogue = (KnownPackage("pypi", "mcp", "test"),)
    assert find_squat("pypi", "mcq", catalogue) is None
    assert find_squat("pypi", "rncp", catalogue) is not None


def test_edit_distance_counts_a_swap_as_one_edit() -> None:
    assert edit_distance("fetch", "fecth", 2) == 1
    assert edit_distance("abc", "xyz", 1) == 2


def test_skeleton_folds_look_alike_characters() -> None:
    assert skeleton("rn-cp_server.0ne") == skeleton("mcpserverone")
    assert skeleton("раypal") == skeleton("paypal")  # Cyrillic а and р
