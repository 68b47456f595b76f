"""Secrets recognised by how they are written: assignments, headers, encodings."""

from __future__ import annotations

import asyncio
import base64
import json
from urllib.parse import quote

import pytest

from mcpwarden.detect.text import find_secrets
from mcpwarden.guards.content import ContentGuard, ContentPolicy
from mcpwarden.types import Exchange

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Rk3Tx2a"
PASSWORD = "Tr0ub4dor&3x"


def _values(text: str) -> dict[str, str]:
    return {f.rule: text[f.span[0] : f.span[1]] for f in find_secrets(text) if f.span}


@pytest.mark.parametrize(
    "text",
    [
        f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n",
        f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n",
        f'export AWS_SECRET_ACCESS_KEY="{AWS_SECRET}"\n',
        f"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {AWS_SECRET}\n",
        json.dumps({"Credentials": {"AccessKeyId": "ASIAXXXX", "SecretAccessKey": AWS_SECRET}}),
        f"secretAccessKey: '{AWS_SECRET}'",
    ],
    ids=["env", "shell", "shell-quoted", "ini", "json", "yaml"],
)
def test_aws_secret_access_key_is_found_in_its_usual_forms(text: str) -> None:
    assert _values(text).get("secret.aws-secret-key") == AWS_SECRET


@pytest.mark.parametrize(
    "text",
    [
        f"DB_PASSWORD={PASSWORD}",
        f"password: {PASSWORD}",
        f'"password": "{PASSWORD}"',
        f"passwd = '{PASSWORD}'",
        f"[client]\npwd={PASSWORD}",
        f"MYSQL_ROOT_PASSWORD: {PASSWORD}",
        "password: correcthorsebattery",
    ],
)
def test_password_assignments_are_found(text: str) -> None:
    found = _values(text)
    assert found.get("secret.password") in {PASSWORD, "correcthorsebattery"}


@pytest.mark.parametrize(
    "text",
    [
        "password = get_password()",
        "def login(user: str, password: str) -> None:",
        "conn = connect(host, password=password)",
        "password = self.password",
        "password: ${DB_PASSWORD}",
        "password: {{ .Values.db.password }}",
        "PASSWORD=<your password here>",
        'password = "changeme"',
        "password: ********",
        "password=None",
        "secret_name: my-app-secret",
        "The password: see the vault entry for details.",
        'parser.add_argument("--password", help="database password")',
        "password = os.environ['DB_PASSWORD']",
    ],
)
def test_code_templates_and_placeholders_are_not_passwords(text: str) -> None:
    assert "secret.password" not in _values(text)
    assert "secret.secret" not in _values(text)


def test_credentials_in_a_connection_string_are_found() -> None:
    assert _values("postgres://user:pass1234@db:5432/x")["secret.connection-string"] == "pass1234"


def test_bearer_token_in_an_authorization_header_is_found() -> None:
    token = "a8f5f167f44f4964e6c998dee827110c9d2e"
    assert _values(f"Authorization: Bearer {token}")["secret.bearer-token"] == token


def test_prose_about_bearer_tokens_is_not_a_secret() -> None:
    assert find_secrets("Send a bearer token in the Authorization header of each request.") == []


@pytest.mark.parametrize(
    ("rule", "secret"),
    [
        ("secret.stripe-key", "sk_live_" + "51Hx2kLmNoPqRsTuVwXyZa0b1C2d3E4f5G6h7I8j9K0l"),
        ("secret.stripe-key", "rk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"),
        ("secret.npm-token", "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
        ("secret.slack-token", "xoxp-2048-4096-8192-" + "a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3"),
        ("secret.pypi-token", "pypi-AgEIcHlwaS5vcmc" + "Aa1Bb2Cc3Dd4" * 6),
    ],
)
def test_provider_tokens_are_found_whole(rule: str, secret: str) -> None:
    assert _values(f"token {secret} end").get(rule) == secret


def test_azure_connection_string_account_key_is_found() -> None:
    key = base64.b64encode(bytes(range(64))).decode()
    text = f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net"
    rules = _values(text)
    assert key in {rules.get("secret.azure-key"), rules.get("secret.azure-storage-key")}


def test_azure_sas_signature_is_found() -> None:
    sig = "r5kJ8%2FbH3k1m9QzYt0wXvN7a2bC4dE6fG8hJ0kL2mN4%3D"
    url = f"https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-01-01&sr=b&sp=r&sig={sig}"
    assert _values(url)["secret.azure-sas"] == sig


def test_gcp_service_account_json_key_is_found() -> None:
    account = {
        "type": "service_account",
        "private_key_id": "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
        "private_key": (
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
        ),
    }
    rules = {f.rule for f in find_secrets(json.dumps(account, indent=2))}
    assert {"secret.gcp-service-account-key", "secret.private-key"} <= rules


@pytest.mark.parametrize("kind", ["OPENSSH PRIVATE KEY", "PGP PRIVATE KEY BLOCK", "EC PRIVATE KEY"])
def test_ssh_and_pgp_private_keys_are_found(kind: str) -> None:
    block = f"-----BEGIN {kind}-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END {kind}-----"
    assert _values(block)["secret.private-key"] == block


def test_secret_inside_base64_is_found_and_the_whole_run_reported() -> None:
    wrapped = base64.b64encode(f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n".encode()).decode()
    text = f"apiVersion: v1\nkind: Secret\ndata:\n  credentials: {wrapped}\n"
    assert _values(text)["secret.aws-secret-key"] == wrapped


def test_secret_inside_url_encoding_is_found() -> None:
    encoded = quote(f"postgres://app:{PASSWORD}@db/prod", safe="")
    found = find_secrets(f"GET /connect?dsn={encoded} HTTP/1.1")
    assert any(f.rule == "secret.connection-string" for f in found)


def test_ordinary_base64_is_not_a_secret() -> None:
    blob = base64.b64encode(b"The quick brown fox jumps over the lazy dog, twice over.").decode()
    assert find_secrets(f"payload: {blob}") == []


def test_argument_secrets_block_refuses_an_aws_secret_key_in_tool_arguments() -> None:
    guard = ContentGuard({"up": ContentPolicy(argument_secrets="block")})
    params = {"name": "write_file", "arguments": {"content": f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}"}}
    decision = asyncio.run(guard.tool_call(Exchange("tools/call", "up", tool="write_file"), params))
    assert decision is not None and decision.kind == "deny"
    assert decision.details is not None and decision.details["paths"] == ["$.arguments.content"]
    assert "secret.aws-secret-key" in decision.details["rules"]


def test_an_empty_assignment_does_not_take_the_next_line_as_its_value() -> None:
    assert find_secrets("DB_PASSWORD=\nBUILD_SHA=910dcfc2573f915154098b1c10543f62c8ef7495\n") == []


def test_password_in_xml_configuration_is_found() -> None:
    assert _values(f"<server>\n  <password>{PASSWORD}</password>\n</server>")["secret.password"] == PASSWORD


def test_a_documented_url_with_the_word_password_is_not_a_secret() -> None:
    assert find_secrets("Connection strings look like `postgres://user:password@host/db`.") == []
