"""Noticing the audit file deleted or replaced under a running gateway, whatever else is on.

The pin-store binding (`binding.py`) and signed checkpoints (`checkpoint.py`) each watch the
file when they are configured; a gateway with neither would otherwise go on writing into an
unlinked file that nobody can read. `AuditFileWatch.check`, called about once a second,
starts a new file at the path (its first record an `audit.deleted` / `audit.replaced`
alert naming the lost chain's last seq and hash, which also reaches the sinks), so the
gateway is unaudited for at most that second and the loss is on record.
"""

from __future__ import annotations

import logging

from mcpwarden.audit.jsonl import AuditLog, AuditUnavailable
from mcpwarden.audit.resume import AuditChainError

log = logging.getLogger("mcpwarden.audit")


class AuditFileWatch:
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self.losses = 0

    def check(self) -> str | None:
        """`deleted` or `replaced` when that happened since the last check (and a new file
        was started), else None. One `stat` when nothing changed."""
        what = self.audit.replaced()
        if what is None:
            return None
        self.losses += 1
        try:
            self.audit.reopen_replaced()
        except (OSError, AuditUnavailable, AuditChainError):
            # Writes keep failing or going to the lost file; the next check tries again.
            log.exception("the audit file %s was %s and a new one cannot be started", self.audit.path, what)
        return what
