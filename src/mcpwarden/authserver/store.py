"""Where the authorization server keeps its state: one table of typed records.

Clients, consents, authorization codes, refresh tokens, pending authorizations, gateway
logins and encrypted third-party tokens are all small JSON records with the same few
indexed columns (owner user, client, group, expiry, revocation). One table and one
interface keep the two backends (SQLite by default, PostgreSQL for replicas) tiny, and
the single-use operations (`consume`, `revoke`) are one conditional UPDATE each, so a
code or refresh token raced by two requests is granted to at most one of them.

Secrets are never stored in clear: codes, refresh tokens and login ids are keyed by
their SHA-256, and third-party tokens are AES-GCM ciphertext (see `vault`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal["client", "consent", "code", "refresh", "pending", "login", "vault"]
KINDS: tuple[Kind, ...] = ("client", "consent", "code", "refresh", "pending", "login", "vault")


def sqlite_schema() -> str:
    """The PostgreSQL migration's DDL, made idempotent: one definition of the table for both backends."""
    from importlib import resources

    text = (resources.files("mcpwarden.store") / "migrations" / "postgres" / "0003.oauth.sql").read_text()
    return text.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ").replace(
        "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS "
    )


_COLUMNS = "kind, key, user_id, client_id, grp, data, created_at, expires_at, revoked_at"


def secret_key(value: str) -> str:
    """The storage key of a bearer secret (code, refresh token, login id): its SHA-256."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Record:
    kind: str
    key: str
    user_id: str | None
    client_id: str | None
    grp: str | None
    data: dict[str, Any]
    created_at: float
    expires_at: float | None
    revoked_at: float | None

    def active(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Record:
        kind, key, user, client, grp, data, created, expires, revoked = row
        return cls(kind, key, user, client, grp, json.loads(data), created, expires, revoked)


class OAuthStore(ABC):
    """The record operations the authorization server needs; both backends implement them."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock

    @abstractmethod
    def _execute(self, sql: str, params: tuple[Any, ...]) -> int: ...

    @abstractmethod
    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def close(self) -> None:
        """Release what the backend holds (its own connection; never a shared pool)."""

    # Placeholders are written `?` and translated by the PostgreSQL backend.

    def put(
        self,
        kind: Kind,
        key: str,
        data: dict[str, Any],
        *,
        user_id: str | None = None,
        client_id: str | None = None,
        grp: str | None = None,
        ttl: float | None = None,
    ) -> Record:
        now = self.clock()
        expires = now + ttl if ttl is not None else None
        blob = json.dumps(data, sort_keys=True)
        self._execute(
            f"INSERT INTO oauth_records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL) "
            "ON CONFLICT (kind, key) DO UPDATE SET user_id = excluded.user_id, "
            "client_id = excluded.client_id, grp = excluded.grp, data = excluded.data, "
            "created_at = excluded.created_at, "
            "expires_at = excluded.expires_at, revoked_at = NULL",
            (kind, key, user_id, client_id, grp, blob, now, expires),
        )
        return Record(kind, key, user_id, client_id, grp, data, now, expires, None)

    def get(self, kind: Kind, key: str) -> Record | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM oauth_records WHERE kind = ? AND key = ?", (kind, key))
        return Record.from_row(rows[0]) if rows else None

    def active(self, kind: Kind, key: str) -> Record | None:
        """The record if it exists, is not revoked and has not expired."""
        found = self.get(kind, key)
        return found if found is not None and found.active(self.clock()) else None

    def list(
        self,
        kind: Kind,
        *,
        user_id: str | None = None,
        client_id: str | None = None,
        grp: str | None = None,
        include_inactive: bool = False,
    ) -> list[Record]:
        sql = f"SELECT {_COLUMNS} FROM oauth_records WHERE kind = ?"
        params: list[Any] = [kind]
        for column, value in (("user_id", user_id), ("client_id", client_id), ("grp", grp)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        rows = [Record.from_row(r) for r in self._query(sql + " ORDER BY created_at, key", tuple(params))]
        now = self.clock()
        return rows if include_inactive else [r for r in rows if r.active(now)]

    def update_data(self, kind: Kind, key: str, data: dict[str, Any], *, user_id: str | None = None) -> bool:
        """Replace an active record's data (and, when given, its owner)."""
        blob = json.dumps(data, sort_keys=True)
        if user_id is None:
            return (
                self._execute(
                    "UPDATE oauth_records SET data = ? WHERE kind = ? AND key = ? AND revoked_at IS NULL",
                    (blob, kind, key),
                )
                == 1
            )
        return (
            self._execute(
                "UPDATE oauth_records SET data = ?, user_id = ? "
                "WHERE kind = ? AND key = ? AND revoked_at IS NULL",
                (blob, user_id, kind, key),
            )
            == 1
        )

    def consume(self, kind: Kind, key: str) -> Record | None:
        """Mark a single-use record used; the record only for the one caller that did so."""
        now = self.clock()
        changed = self._execute(
            "UPDATE oauth_records SET revoked_at = ? WHERE kind = ? AND key = ? AND revoked_at IS NULL "
            "AND (expires_at IS NULL OR expires_at > ?)",
            (now, kind, key, now),
        )
        if changed != 1:
            return None
        return self.get(kind, key)

    def revoke(self, kind: Kind, key: str) -> bool:
        return (
            self._execute(
                "UPDATE oauth_records SET revoked_at = ? WHERE kind = ? AND key = ? AND revoked_at IS NULL",
                (self.clock(), kind, key),
            )
            == 1
        )

    def revoke_where(
        self, kind: Kind, *, user_id: str | None = None, client_id: str | None = None, grp: str | None = None
    ) -> int:
        """Revoke every active record of `kind` matching all the given columns (at least one)."""
        conditions = [(c, v) for c, v in (("user_id", user_id), ("client_id", client_id), ("grp", grp)) if v]
        if not conditions:
            raise ValueError("revoke_where needs at least one of user_id, client_id, grp")
        sql = "UPDATE oauth_records SET revoked_at = ? WHERE kind = ? AND revoked_at IS NULL"
        sql += "".join(f" AND {column} = ?" for column, _ in conditions)
        return self._execute(sql, (self.clock(), kind, *(v for _, v in conditions)))

    def purge_expired(self, older_than: float = 3600.0) -> int:
        """Drop records that expired (or were revoked) more than `older_than` seconds ago."""
        cutoff = self.clock() - older_than
        return self._execute(
            "DELETE FROM oauth_records WHERE kind IN ('code', 'pending', 'login') AND "
            "((expires_at IS NOT NULL AND expires_at < ?) OR (revoked_at IS NOT NULL AND revoked_at < ?))",
            (cutoff, cutoff),
        )


class SQLiteOAuthStore(OAuthStore):
    """The default: a table in the gateway's SQLite file (its own connection, WAL mode)."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # As the pin store: WAL + NORMAL survives a process crash; only a power cut can lose
        # the last commits (a code or refresh token then simply fails and is asked for again).
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(sqlite_schema())

    def _execute(self, sql: str, params: tuple[Any, ...]) -> int:
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def close(self) -> None:
        self._conn.close()
