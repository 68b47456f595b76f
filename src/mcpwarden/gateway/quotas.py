"""Fair share: per-principal quotas on sessions, GET streams and stdio server processes.

One principal once filled all 1,000 sessions and locked everyone else out, and each stdio
session is a child process (30 sessions used 2.1 GB). The global caps alone protect the
gateway, not its other users, so every costly resource also has a per-principal quota.
Counters live in memory, in the one event loop that serves requests, so no lock is needed;
a refusal is a `QuotaExceeded` carrying the HTTP status, the reason code and a message that
names the limit and the setting that raises it.
"""

from __future__ import annotations

from collections import Counter

from mcpwarden.config import SessionConfig


class QuotaExceeded(Exception):
    def __init__(self, reason: str, message: str, *, status: int = 429) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


class Quotas:
    def __init__(self, limits: SessionConfig) -> None:
        self.limits = limits
        self.sessions: Counter[str] = Counter()
        self.streams: Counter[str] = Counter()
        self.session_streams: Counter[str] = Counter()
        self.children: Counter[str] = Counter()

    # -- sessions ---------------------------------------------------------------------------

    def admit_session(self, principal: str) -> None:
        limit = self.limits.max_sessions_per_principal
        if self.sessions[principal] >= limit:
            raise QuotaExceeded(
                "session.quota",
                f"this principal already has {limit} live sessions (sessions.max_sessions_per_principal); "
                "end one (DELETE) or wait for idle ones to expire",
            )

    def session_started(self, principal: str) -> None:
        self.sessions[principal] += 1

    def session_ended(self, principal: str) -> None:
        _decrement(self.sessions, principal)

    # -- GET streams ------------------------------------------------------------------------

    def claim_stream(self, principal: str, session: str) -> None:
        """Count one more GET stream, or refuse it; the caller releases it when it ends.

        Counted here, synchronously, rather than when a stream starts sending, so a burst of
        GETs cannot all pass the check before the first of them is counted.
        """
        open_on_session = self.session_streams[session]
        if open_on_session >= self.limits.max_streams_per_session:
            raise QuotaExceeded(
                "stream.limit",
                f"this session already has {open_on_session} open GET streams "
                "(sessions.max_streams_per_session)",
            )
        if self.streams[principal] >= self.limits.max_streams_per_principal:
            raise QuotaExceeded(
                "stream.principal_limit",
                f"this principal already has {self.streams[principal]} open GET streams "
                "(sessions.max_streams_per_principal)",
            )
        self.streams[principal] += 1
        self.session_streams[session] += 1

    def release_stream(self, principal: str, session: str) -> None:
        _decrement(self.streams, principal)
        _decrement(self.session_streams, session)

    # -- stdio children ---------------------------------------------------------------------

    def claim_child(self, principal: str) -> None:
        """Count one more stdio server process, or refuse to start it."""
        total = sum(self.children.values())
        if total >= self.limits.max_stdio_children:
            raise QuotaExceeded(
                "upstream.stdio_limit",
                f"the gateway already runs {total} stdio server processes (sessions.max_stdio_children)",
                status=503,
            )
        if self.children[principal] >= self.limits.max_stdio_children_per_principal:
            raise QuotaExceeded(
                "upstream.stdio_quota",
                f"this principal's sessions already run {self.children[principal]} stdio server processes "
                "(sessions.max_stdio_children_per_principal); end a session first",
            )
        self.children[principal] += 1

    def release_children(self, principal: str, count: int) -> None:
        for _ in range(count):
            _decrement(self.children, principal)


def _decrement(counter: Counter[str], key: str) -> None:
    if counter[key] <= 1:
        counter.pop(key, None)
    else:
        counter[key] -= 1
