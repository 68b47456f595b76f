import os
from pathlib import Path

import pytest

from mcpwarden.policy.paths import PathPrefix, PathRejected, decoding_stages, uri_interpretations

PREFIX = PathPrefix.compile("/srv/docs")


def test_path_inside_prefix_is_accepted() -> None:
    assert PREFIX.check("/srv/docs/guide/intro.md") is None


def test_prefix_itself_is_accepted() -> None:
    assert PREFIX.check("/srv/docs") is None


def test_sibling_with_common_string_prefix_is_rejected() -> None:
    assert PREFIX.check("/srv/docs-private/x") is not None


def test_dot_dot_traversal_is_rejected() -> None:
    assert PREFIX.check("/srv/docs/../../etc/passwd") is not None


def test_percent_encoded_traversal_is_rejected() -> None:
    assert PREFIX.check("/srv/docs/%2e%2e%2f%2e%2e%2fetc/passwd") is not None


def test_double_encoded_traversal_is_rejected() -> None:
    assert PREFIX.check("/srv/docs/%252e%252e%252f%252e%252e%252fetc/passwd") is not None


def test_backslash_traversal_is_rejected() -> None:
    assert PREFIX.check("/srv/docs/..\\..\\etc\\passwd") is not None


def test_encoded_backslash_traversal_is_rejected() -> None:
    assert PREFIX.check("/srv/docs/..%5c..%5cetc") is not None


def test_absolute_path_outside_is_rejected() -> None:
    assert PREFIX.check("/etc/passwd") is not None


def test_nul_byte_is_rejected() -> None:
    assert PREFIX.check("/srv/docs/a.md\x00.png") is not None


def test_encoded_nul_byte_is_rejected() -> None:
    assert PREFIX.check("/srv/docs/a.md%00.png") is not None


def test_relative_path_is_rejected_without_base() -> None:
    assert PREFIX.check("guide/intro.md") is not None


def test_relative_path_resolves_against_base() -> None:
    prefix = PathPrefix.compile("/srv/docs", relative_to="/srv/docs")
    assert prefix.check("guide/intro.md") is None
    assert prefix.check("../secrets") is not None


def test_decoding_past_the_layer_limit_is_rejected() -> None:
    value = "/srv/docs/%" + "25" * 6 + "2e"
    with pytest.raises(PathRejected):
        decoding_stages(value)


def test_file_uri_with_remote_host_is_rejected() -> None:
    assert PREFIX.check("file://evil.example/srv/docs/a") is not None


def test_file_uri_inside_prefix_is_accepted() -> None:
    assert PREFIX.check("file:///srv/docs/a") is None


def test_literal_percent_name_that_decodes_outside_is_rejected() -> None:
    # Read raw, this stays inside /etc; read decoded, it lands in /srv/docs. Both must pass.
    assert PREFIX.check("/etc/%2e%2e/srv/docs/x") is not None


def test_symlink_escaping_the_prefix_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "key.pem").write_text("k")
    os.symlink(outside, root / "link")
    prefix = PathPrefix.compile(str(root), resolve_symlinks_under=str(tmp_path))
    assert prefix.check(str(root / "link" / "key.pem")) is not None


def test_symlink_inside_the_prefix_is_accepted(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    (root / "real").mkdir(parents=True)
    os.symlink(root / "real", root / "alias")
    prefix = PathPrefix.compile(str(root), resolve_symlinks_under=str(tmp_path))
    assert prefix.check(str(root / "alias" / "file.md")) is None


def test_symlinks_are_not_followed_without_a_resolution_root(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    os.symlink(tmp_path, root / "up")
    prefix = PathPrefix.compile(str(root))
    assert prefix.check(str(root / "up" / "x")) is None


def test_uri_readings_remove_dot_segments() -> None:
    assert "file:///etc/passwd" in uri_interpretations("file:///docs/%2e%2e/etc/passwd")


def test_uri_scheme_and_host_are_lowercased() -> None:
    assert uri_interpretations("FILE://Host/a") == ["file://host/a"]
