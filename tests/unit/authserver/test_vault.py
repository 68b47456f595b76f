"""The vault: AES-GCM bound to (user, provider), and key rotation by key id."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from mcpwarden.authserver.vault import Vault, VaultError


def key_file(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_text(secrets.token_hex(32))
    return f"file:{path}"


def test_a_sealed_token_opens_for_its_owner_and_provider(tmp_path: Path) -> None:
    vault = Vault([key_file(tmp_path, "k1")])
    sealed = vault.seal("alice", "github", {"access_token": "gho_secret"})
    assert "gho_secret" not in str(sealed)
    assert vault.open("alice", "github", sealed) == {"access_token": "gho_secret"}


@pytest.mark.parametrize(("user", "provider"), [("bob", "github"), ("alice", "google")])
def test_a_sealed_token_does_not_open_for_another_user_or_provider(
    tmp_path: Path, user: str, provider: str
) -> None:
    vault = Vault([key_file(tmp_path, "k1")])
    sealed = vault.seal("alice", "github", {"access_token": "gho_secret"})
    with pytest.raises(VaultError, match="wrong owner"):
        vault.open(user, provider, sealed)


def test_rotation_keeps_old_tokens_readable_and_rewrap_moves_them_to_the_new_key(tmp_path: Path) -> None:
    old, new = key_file(tmp_path, "old"), key_file(tmp_path, "new")
    sealed = Vault([old]).seal("alice", "github", {"access_token": "t"})
    rotated = Vault([new, old])
    assert rotated.open("alice", "github", sealed) == {"access_token": "t"}
    rewrapped = rotated.rewrap("alice", "github", sealed)
    assert rewrapped is not None and rewrapped["kid"] == rotated.current_kid() != sealed["kid"]
    assert Vault([new]).open("alice", "github", rewrapped) == {"access_token": "t"}
    with pytest.raises(VaultError, match="no longer configured"):
        Vault([new]).open("alice", "github", sealed)


def test_a_key_of_the_wrong_length_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short"
    path.write_text("abcd")
    with pytest.raises(VaultError, match="32 bytes"):
        Vault([f"file:{path}"]).seal("alice", "github", {})
