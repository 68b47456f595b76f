"""Secrets: provider formats from detect-secrets' catalogue, local additions, and negatives."""

from __future__ import annotations

import pytest

from mcpwarden.detect.text import Redactor, find_secrets


def _found(text: str) -> dict[str, str]:
    return {f.rule: text[f.span[0] : f.span[1]] for f in find_secrets(text) if f.span}


@pytest.mark.parametrize(
    ("rule", "secret"),
    [
        ("secret.aws-access-key", "AKIAIOSFODNN7EXAMPLE"),
        ("secret.github-token", "ghp_" + "aB3" * 12),
        ("secret.slack-token", "xoxb-123456789012-abcdefghij"),
        ("secret.stripe-key", "sk_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2"),
        ("secret.gitlab-token", "glpat-abcdefghij0123456789xyz"),
        ("secret.google-api-key", "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"),
        ("secret.anthropic-key", "sk-ant-api03-" + "x1Y2z3" * 16),
    ],
)
def test_provider_token_is_found_with_exact_span(rule: str, secret: str) -> None:
    text = f"config: {secret} end"
    assert _found(text).get(rule) == secret


def test_private_key_block_is_found_whole() -> None:
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
    assert _found(f"key:\n{block}\n")["secret.private-key"] == block


def test_jwt_needs_json_header_and_payload() -> None:
    good = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2J5dGVz"
    bad = "eyJub3Rqc29uIiwi.eyJhbHNvbm90anNvbg.c2ln"
    assert _found(f"Bearer {good}")["secret.jwt"] == good
    assert "secret.jwt" not in _found(f"Bearer {bad}")


def test_connection_string_reports_only_the_password() -> None:
    assert (
        _found("DATABASE_URL=postgres://admin:s3cr3tP4ss@db.internal:5432/app")["secret.connection-string"]
        == "s3cr3tP4ss"
    )


def test_random_value_after_credential_keyword_is_found() -> None:
    assert "secret.high-entropy" in _found('api_key = "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c"')


def test_plain_words_after_credential_keyword_are_not_secrets() -> None:
    assert find_secrets("the token: please_remember_this_value and the api_key: see_the_docs_please") == []


def test_ordinary_prose_has_no_secrets() -> None:
    assert find_secrets("Ask the admin to rotate the AWS access key every ninety days.") == []


def test_redaction_gives_same_placeholder_to_same_secret() -> None:
    key = "AKIAIOSFODNN7EXAMPLE"
    other = "AKIAI44QH8DHBEXAMPLE"
    text = f"a={key} b={other} c={key}"
    out = Redactor().redact(text, find_secrets(text))
    assert out == "a=[REDACTED:aws-access-key:1] b=[REDACTED:aws-access-key:2] c=[REDACTED:aws-access-key:1]"
