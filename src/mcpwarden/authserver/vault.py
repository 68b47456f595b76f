"""Third-party tokens at rest: AES-256-GCM, keys from secret references, rotation by key id.

Each stored token is a JSON envelope `{kid, nonce, ct}`; the associated data binds the
ciphertext to its owner and provider, so a row copied to another user's key (or another
provider) fails to decrypt instead of handing user A's token to user B. The first
configured key encrypts; every configured key decrypts, so rotation is: put the new key
first, run `mcpwarden oauth tokens rewrap`, then remove the old key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mcpwarden.auth.secrets import resolve_secret


class VaultError(Exception):
    """A token could not be sealed or opened; the message never contains key or token."""


def _decode_key(text: str) -> bytes:
    for decode in (bytes.fromhex, lambda t: base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))):
        try:
            raw = decode(text.strip())
        except (ValueError, binascii.Error):
            continue
        if len(raw) == 32:
            return raw
    raise VaultError("vault keys must be 32 bytes, written as hex or base64url")


def key_id(raw: bytes) -> str:
    return hashlib.sha256(b"mcpwarden-vault" + raw).hexdigest()[:12]


class Vault:
    """Seals and opens third-party tokens with the configured keys (resolved on each use)."""

    def __init__(self, key_refs: list[str]) -> None:
        if not key_refs:
            raise VaultError("the vault needs at least one key")
        self._refs = list(key_refs)

    def _keys(self) -> list[tuple[str, bytes]]:
        from mcpwarden.auth.secrets import SecretError

        try:
            raws = [_decode_key(resolve_secret(ref)) for ref in self._refs]
        except SecretError as exc:
            raise VaultError(str(exc)) from None
        return [(key_id(raw), raw) for raw in raws]

    @staticmethod
    def _aad(user: str, provider: str) -> bytes:
        return json.dumps(["mcpwarden-vault-v1", user, provider]).encode()

    def seal(self, user: str, provider: str, secret: dict[str, Any]) -> dict[str, str]:
        kid, raw = self._keys()[0]
        nonce = os.urandom(12)
        ct = AESGCM(raw).encrypt(nonce, json.dumps(secret).encode(), self._aad(user, provider))
        return {
            "kid": kid,
            "nonce": base64.b64encode(nonce).decode(),
            "ct": base64.b64encode(ct).decode(),
        }

    def open(self, user: str, provider: str, envelope: dict[str, Any]) -> dict[str, Any]:
        keys = dict(self._keys())
        raw = keys.get(str(envelope.get("kid")))
        if raw is None:
            raise VaultError(f"token sealed with key {envelope.get('kid')!r}, which is no longer configured")
        try:
            plain = AESGCM(raw).decrypt(
                base64.b64decode(envelope["nonce"]),
                base64.b64decode(envelope["ct"]),
                self._aad(user, provider),
            )
        except (InvalidTag, KeyError, ValueError, binascii.Error):
            raise VaultError("stored token failed authentication (wrong owner, provider or key)") from None
        result: dict[str, Any] = json.loads(plain)
        return result

    def current_kid(self) -> str:
        return self._keys()[0][0]

    def rewrap(self, user: str, provider: str, envelope: dict[str, Any]) -> dict[str, str] | None:
        """The envelope re-sealed under the current key, or None when it already is."""
        if envelope.get("kid") == self.current_kid():
            return None
        return self.seal(user, provider, self.open(user, provider, envelope))
