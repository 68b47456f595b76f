"""Consent records: per (user, client id, redirect URI), holding the scopes and resources granted.

A later authorization is covered only when its client and redirect URI are the same and
it asks for no scope and no resource beyond what was granted, so a second client (or the
same client sending its code elsewhere) cannot ride on an earlier consent, and a wider
request asks again.
"""

from __future__ import annotations

import hashlib
import json

from mcpwarden.authserver.store import OAuthStore, Record


def consent_key(user: str, client_id: str, redirect_uri: str) -> str:
    return hashlib.sha256(json.dumps([user, client_id, redirect_uri]).encode()).hexdigest()


class Consents:
    def __init__(self, store: OAuthStore) -> None:
        self.store = store

    def covers(self, user: str, client_id: str, redirect_uri: str, scopes: list[str], resource: str) -> bool:
        record = self.store.active("consent", consent_key(user, client_id, redirect_uri))
        if record is None:
            return False
        return set(scopes) <= set(record.data["scopes"]) and resource in record.data["resources"]

    def grant(self, user: str, client_id: str, redirect_uri: str, scopes: list[str], resource: str) -> Record:
        key = consent_key(user, client_id, redirect_uri)
        existing = self.store.active("consent", key)
        granted = set(scopes)
        resources = {resource}
        if existing is not None:  # widen only with this new approval
            granted |= set(existing.data["scopes"])
            resources |= set(existing.data["resources"])
        return self.store.put(
            "consent",
            key,
            {"redirect_uri": redirect_uri, "scopes": sorted(granted), "resources": sorted(resources)},
            user_id=user,
            client_id=client_id,
        )

    def revoke(self, key: str) -> bool:
        return self.store.revoke("consent", key)

    def revoke_for(self, *, user: str | None = None, client_id: str | None = None) -> int:
        return self.store.revoke_where("consent", user_id=user, client_id=client_id)
