"""Small OAuth-over-HTTP helpers shared by introspection and the upstream grants."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus


def basic_auth_header(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: id and secret are form-encoded before base64, which httpx does not do."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
