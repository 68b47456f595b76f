"""Property tests: whatever a client sends, the parsers answer with AuthError or a token."""

from __future__ import annotations

import asyncio
import base64
import json

from auth_testkit import RESOURCE, FakeIssuer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpwarden.auth.errors import AuthError
from mcpwarden.auth.metadata import extract_bearer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=300))
def test_extract_bearer_returns_clean_token_or_none_or_400(value: str) -> None:
    try:
        token = extract_bearer([("authorization", value)])
    except AuthError as error:
        assert (error.status, error.error) == (400, "invalid_request")
        return
    assert token is None or (token in value and " " not in token and token.isascii())


@settings(max_examples=200, deadline=None)
@given(token=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: ".".join([_b64(b)] * 3)))
def test_validate_rejects_arbitrary_text_with_auth_error(token: str) -> None:
    idp = FakeIssuer.shared()
    try:
        asyncio.run(idp.validator().validate(token, resource=RESOURCE))
    except AuthError as error:
        assert error.status in (400, 401)
    else:
        raise AssertionError("arbitrary text was accepted as a token")


@settings(max_examples=200, deadline=None)
@given(header=json_values, claims=json_values)
def test_validate_rejects_arbitrary_json_segments_with_auth_error(header: object, claims: object) -> None:
    idp = FakeIssuer.shared()
    token = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}.{_b64(b'sig')}"
    try:
        asyncio.run(idp.validator().validate(token, resource=RESOURCE))
    except AuthError as error:
        assert error.status == 401
    else:
        raise AssertionError("unsigned JSON was accepted as a token")
