"""What lets the gateway notice a pin store that was deleted, replaced, rolled back or edited.

Pins decide what an upstream may offer, so a store someone swapped or edited would approve
a changed definition silently (and under `tofu`, an emptied store trusts whatever comes
next). Each store therefore carries, in `store_meta`:

- `store_id`: random, fixed when the store is created: a deleted and recreated store, or
  another file put in its place, has a different one;
- `generation`: raised by one in every transaction that writes pins, by mcpwarden's own
  code (gateway or CLI): a store restored from an older copy goes backwards;
- `pins_digest`: SHA-256 over every pin row, recomputed in that same transaction: an edit
  made with any other tool (`sqlite3`, a hex editor) leaves it stale;
- `audit_chain`/`audit_seq`/`audit_hash`: the audit record that last recorded this store's
  state (see `mcpwarden.audit.binding`), so a deleted, replaced or cut audit file is
  noticed from the store's side too;
- `alarm`: why pin decisions are failing closed, until an operator runs
  `mcpwarden audit rebind` (which sets `rebind_by`/`rebind_at` for the gateway to record).

There is no secret key: someone who can rewrite the store *and* the audit file consistently
is not stopped (see docs/audit.md, "Limits"), but deletion, replacement, rollback and edits
with ordinary tools are.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

import orjson

META_SCHEMA = """
CREATE TABLE store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO store_meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));
INSERT INTO store_meta (key, value) VALUES ('generation', '0');
"""

_PIN_ROWS = "SELECT * FROM pins ORDER BY upstream, kind, name"


@dataclass(frozen=True, slots=True)
class StoreState:
    """The store's identity and pin state, and the digest of the pins as they are now."""

    store_id: str
    generation: int
    pins_digest: str
    actual_digest: str
    alarm: str | None
    rebind_by: str | None
    audit_chain: str | None
    audit_seq: int | None
    audit_hash: str | None

    @property
    def edited(self) -> bool:
        """True when the pins differ from what mcpwarden last wrote (edited by another tool)."""
        return self.pins_digest != self.actual_digest


def pins_digest(conn: sqlite3.Connection) -> str:
    """SHA-256 over every column of every pin row, in key order."""
    digest = hashlib.sha256()
    for row in conn.execute(_PIN_ROWS):
        digest.update(orjson.dumps(list(row)))
        digest.update(b"\n")
    return digest.hexdigest()


def get_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM store_meta")}


def set_meta(conn: sqlite3.Connection, **values: str | None) -> None:
    for key, value in values.items():
        if value is None:
            conn.execute("DELETE FROM store_meta WHERE key = ?", (key,))
        else:
            conn.execute(
                "INSERT INTO store_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


EDITED_ALARM = "the pins were edited with another tool (found by mcpwarden's next write to the store)"


def check_before_write(conn: sqlite3.Connection) -> None:
    """At the start of a pin write: if the pins no longer match their digest, raise the alarm
    in this same transaction, so the write's fresh digest cannot launder the edit."""
    meta = get_meta(conn)
    recorded = meta.get("pins_digest")
    if recorded is not None and recorded != pins_digest(conn) and "alarm" not in meta:
        set_meta(conn, alarm=EDITED_ALARM)


def bump(conn: sqlite3.Connection) -> None:
    """Inside a transaction that wrote pins: next generation, fresh digest."""
    meta = get_meta(conn)
    set_meta(conn, generation=str(int(meta.get("generation", "0")) + 1), pins_digest=pins_digest(conn))


def read_state(conn: sqlite3.Connection) -> StoreState:
    """Meta and the recomputed digest, from one snapshot (call inside a read transaction)."""
    meta = get_meta(conn)
    actual = pins_digest(conn)
    seq = meta.get("audit_seq")
    return StoreState(
        store_id=meta.get("store_id", ""),
        generation=int(meta.get("generation", "0")),
        # A store created before digests existed has none yet: it is taken as it is.
        pins_digest=meta.get("pins_digest", actual),
        actual_digest=actual,
        alarm=meta.get("alarm"),
        rebind_by=meta.get("rebind_by"),
        audit_chain=meta.get("audit_chain"),
        audit_seq=int(seq) if seq is not None else None,
        audit_hash=meta.get("audit_hash"),
    )
