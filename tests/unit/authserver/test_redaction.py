"""Audit details written by the authorization server never carry codes, tokens or secrets."""

from __future__ import annotations

from mcpwarden.authserver.mount import redacted


def test_secret_fields_are_dropped_at_any_depth_and_the_rest_kept() -> None:
    details = {
        "client_id": "c1",
        "code": "abc",
        "nested": {"Refresh_Token": "r", "user": "alice", "items": [{"access_token": "t", "scope": "s"}]},
        "client_secret": "x",
    }
    assert redacted(details) == {"client_id": "c1", "nested": {"user": "alice", "items": [{"scope": "s"}]}}
