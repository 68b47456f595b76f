"""The pin store and the audit file vouch for each other, so deleting or editing either shows.

The audit records the store's identity and pin state (`store.bound`: store id, generation,
digest) whenever they change, and the store remembers which audit record did that last
(chain, seq, hash). At start and about once a second while running, `IntegrityMonitor`
compares the two:

| Found | Problem (alert `reason`) |
|---|---|
| the store's pins differ from their digest | `integrity.store_edited` (edited with another tool) |
| the store id differs from the last `store.bound` | `integrity.store_replaced` (recreated or swapped) |
| the store's generation went backwards | `integrity.store_rolled_back` (restored from an older copy) |
| the store file is gone, or another is at its path | `integrity.store_deleted` / `_replaced` |
| the audit file holds another chain than the store remembers | `integrity.audit_replaced` |
| the audit file ends before the record the store remembers | `integrity.audit_truncated` |
| that record's hash differs | `integrity.audit_rewritten` |
| the audit file vanished or was replaced while running | `audit.deleted` / `audit.replaced` (new chain) |

Each problem is an `alert` record and a log line, and raises the store's alarm: pin
decisions then fail closed (nothing listed, every call to a pinned upstream denied with
`pin.integrity`) until an operator investigates and runs `mcpwarden audit rebind`, which the
gateway records as a `store.rebound` alert.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from mcpwarden.audit.jsonl import AuditLog, AuditUnavailable
from mcpwarden.audit.segments import iter_lines
from mcpwarden.store.integrity import StoreState
from mcpwarden.store.sqlite import SQLiteStore

log = logging.getLogger("mcpwarden.integrity")

STORE_BOUND: Final = "store.bound"
_BOUND_MARK: Final = b'"event":"store.bound"'


@dataclass(frozen=True, slots=True)
class AuditFacts:
    """What one pass over the audit file found: the last `store.bound` and the hash at one seq."""

    last_bound: dict[str, Any] | None
    hash_at: str | None


def scan_audit(path: Path, seq: int | None) -> AuditFacts:
    """Read the chain once (every rotated segment, then the file): the last `store.bound`
    record's details, and the hash of the record at `seq`."""
    last: dict[str, Any] | None = None
    found: str | None = None
    for position, raw in iter_lines(path):
        if position == seq or _BOUND_MARK in raw:
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(record, dict):
                continue
            if position == seq:
                found = str(record.get("hash"))
            if record.get("event") == STORE_BOUND and isinstance(record.get("details"), dict):
                last = record["details"]
    return AuditFacts(last, found)


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


class IntegrityMonitor:
    """Cross-checks one gateway's pin store and audit log; see the module docstring."""

    def __init__(
        self,
        audit: AuditLog,
        store: SQLiteStore,
        *,
        write: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        """`write` is where records go (the gateway's writer, so sinks see them too); it
        must end in `audit`, whose chain this monitor checks. Default: `audit.write`."""
        self.audit = audit
        self.store = store
        self._write = write or audit.write
        self._store_identity = _file_identity(store.path)
        self._revision: tuple[int, ...] | None = None
        self._generation = 0
        self._reported: set[str] = set()
        self._alarm: str | None = None  # the store's alarm text as last seen

    # -- at start ---------------------------------------------------------------------------

    def check_at_start(self) -> list[str]:
        """Compare store and audit as found on disk; returns the problems' reason codes."""
        state = self.store.integrity_state()
        problems: list[tuple[str, str]] = []
        if state.rebind_by is not None:
            self._rebound(state)
            return []
        self._alarm = state.alarm
        if state.alarm is not None:
            log.error("integrity: pin decisions fail closed until `mcpwarden audit rebind`: %s", state.alarm)
        if state.edited:
            problems.append(_edited(state))
        facts = scan_audit(self.audit.path, state.audit_seq)
        problems += self._audit_problems(state, facts)
        last = facts.last_bound
        if last is not None:
            if last.get("store_id") != state.store_id:
                problems.append(
                    (
                        "integrity.store_replaced",
                        f"the audit last recorded pin store {last.get('store_id')}, but "
                        f"{self.store.path} is store {state.store_id}: it was deleted and recreated "
                        "or replaced",
                    )
                )
            elif state.generation < int(last.get("generation", 0)):
                problems.append(_rolled_back(state.generation, int(last.get("generation", 0))))
            elif state.generation == last.get("generation") and state.pins_digest != last.get("pins_digest"):
                problems.append(_edited(state))
        self._report(problems)
        self._bind(state)
        return [code for code, _ in problems]

    def _audit_problems(self, state: StoreState, facts: AuditFacts) -> list[tuple[str, str]]:
        chain, seq, digest = state.audit_chain, state.audit_seq, state.audit_hash
        if chain is None or seq is None:
            return []
        where = f"the pin store last recorded audit chain {chain} at seq {seq}"
        if self.audit.chain != chain:
            return [
                (
                    "integrity.audit_replaced",
                    f"{where}, but {self.audit.path} holds chain {self.audit.chain}: "
                    "the audit file was deleted or replaced",
                )
            ]
        if self.audit.seq < seq:
            return [
                (
                    "integrity.audit_truncated",
                    f"{where}, but {self.audit.path} ends at seq {self.audit.seq}: records were removed",
                )
            ]
        if facts.hash_at != digest:
            return [
                (
                    "integrity.audit_rewritten",
                    f"{where}, but that record's hash differs: the audit file was rewritten",
                )
            ]
        return []

    # -- while running ----------------------------------------------------------------------

    def check_running(self) -> list[str]:
        """The cheap periodic check: two stats and one pragma when nothing changed."""
        problems: list[tuple[str, str]] = []
        identity = _file_identity(self.store.path)
        if identity != self._store_identity:
            what = "deleted" if identity is None else "replaced"
            problems.append(
                (
                    f"integrity.store_{what}",
                    f"the pin store {self.store.path} was {what} while the gateway was using it; "
                    "restart the gateway after investigating",
                )
            )
        rebind = False
        gone = self.audit.replaced()
        if gone is not None:
            try:
                self.audit.reopen_replaced()
            except (OSError, AuditUnavailable):
                log.exception("cannot start a new audit file at %s", self.audit.path)
            problems.append(
                (
                    f"integrity.audit_{gone}",
                    f"the audit file {self.audit.path} was {gone} while the gateway was writing it",
                )
            )
            rebind = True
        if self.store.revision() != self._revision or rebind:
            state = self.store.integrity_state()
            if state.rebind_by is not None:
                self._rebound(state)
                return []
            if state.edited:
                problems.append(_edited(state))
            elif state.alarm is not None and state.alarm != self._alarm:
                # Raised by a store write that found the pins edited (see `check_before_write`).
                problems.append(("integrity.store_edited", state.alarm))
            self._alarm = state.alarm
            if state.generation < self._generation:
                problems.append(_rolled_back(state.generation, self._generation))
            if state.generation != self._generation or rebind:
                self._bind(state)
            self._revision = self.store.revision()
        self._report(problems)
        return [code for code, _ in problems]

    # -- shared -----------------------------------------------------------------------------

    def _report(self, problems: list[tuple[str, str]]) -> None:
        new = [(code, message) for code, message in problems if code not in self._reported]
        if not new:
            return
        for code, message in new:
            self._reported.add(code)
            log.error("integrity: %s", message)
            self._audit({"event": "alert", "reason": code, "message": message})
        self._alarm = "; ".join(message for _, message in new)[:2000]
        self.store.raise_alarm(self._alarm)
        self._revision = self.store.revision()

    def _bind(self, state: StoreState) -> None:
        """Record the store's state in the audit and that record's place in the store."""
        record = self._audit(
            {
                "event": STORE_BOUND,
                "details": {
                    "store_id": state.store_id,
                    "generation": state.generation,
                    "pins_digest": state.pins_digest,
                    "store_path": self.store.path,
                },
            }
        )
        if record is None:
            return  # the audit is unwritable: bind on a later check
        try:
            self.audit.flush()  # the store must never remember a record the disk may lose
        except OSError:
            log.exception("audit flush before binding the pin store failed")
            return
        self.store.bind_audit(record["chain"], record["seq"], record["hash"], pins_digest=state.pins_digest)
        self._generation = state.generation
        self._revision = self.store.revision()

    def _rebound(self, state: StoreState) -> None:
        self._audit(
            {
                "event": "alert",
                "reason": "store.rebound",
                "message": f"{state.rebind_by} accepted pin store {state.store_id} (generation "
                f"{state.generation}) and this audit file as trusted again; pin decisions resume",
                "details": {"by": state.rebind_by, "previous_alarm": state.alarm},
            }
        )
        self.store.clear_rebind()
        self._reported.clear()
        self._alarm = None
        self._store_identity = _file_identity(self.store.path)
        self._bind(self.store.integrity_state())

    def _audit(self, record: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return self._write(record)
        except (AuditUnavailable, OSError, ValueError):
            log.exception("integrity: audit record %s could not be written", record.get("reason"))
            return None


def _edited(state: StoreState) -> tuple[str, str]:
    return (
        "integrity.store_edited",
        f"the pins in store {state.store_id} no longer match the digest mcpwarden recorded with them: "
        "they were edited with another tool",
    )


def _rolled_back(now: int, before: int) -> tuple[str, str]:
    return (
        "integrity.store_rolled_back",
        f"the pin store is at generation {now}, older than generation {before} already recorded: "
        "it was restored from an older copy",
    )
