"""The records the audit writer adds about itself: resumed, replaced, rotated, recovered.

Each is an ordinary chained record, so what happened to the log is in the log, in order,
and reaches the sinks like everything else.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from mcpwarden.audit.recovery import RECOVERED_EVENT, TornTail
from mcpwarden.audit.segments import ROTATED_EVENT

RESUMED_EVENT: Final = "audit.resumed"


_second: tuple[int, str] = (-1, "")


def utc_timestamp() -> str:
    """RFC 3339 UTC with microseconds, e.g. `2026-01-02T03:04:05.123456Z`.

    Called for every record; the date and time of day are formatted once per second and
    only the microseconds each time (a quarter of the cost of `datetime.strftime`).
    """
    global _second
    seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
    cached, prefix = _second
    if cached != seconds:
        prefix = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second = (seconds, prefix)
    return f"{prefix}.{nanos // 1000:06d}Z"


def resumed(since: str, error: str, refused: int) -> dict[str, Any]:
    """The first record after a write outage: how long, why, and how many records it cost."""
    return {
        "event": "alert",
        "time": utc_timestamp(),
        "reason": RESUMED_EVENT,
        "message": f"the audit log could not be written from {since} ({error}); "
        f"{refused} record(s) were refused",
        "details": {"since": since, "error": error, "refused_records": refused},
    }


def replaced(what: str, old: dict[str, Any], moved: list[str]) -> dict[str, Any]:
    """The first record of a new chain after the file was deleted or replaced under the writer."""
    return {
        "event": "alert",
        "time": utc_timestamp(),
        "reason": f"audit.{what}",
        "message": f"the audit file was {what} while the gateway was writing it; "
        f"records after seq {old['previous_seq']} of chain {old['previous_chain']} "
        "that were written to it are lost",
        "details": {**old, "moved_aside": moved},
    }


def rotated(segment: Path, seq: int, digest: str) -> dict[str, Any]:
    """The first record of a new file of the same chain: which segment it goes on from."""
    return {
        "event": ROTATED_EVENT,
        "time": utc_timestamp(),
        "reason": ROTATED_EVENT,
        "message": f"the chain goes on from {segment.name}",
        "details": {"previous_segment": segment.name, "previous_seq": seq, "previous_hash": digest},
    }


def recovered(torn: TornTail) -> dict[str, Any]:
    """After a torn last line was moved aside on start-up."""
    return {
        "event": RECOVERED_EVENT,
        "time": utc_timestamp(),
        "reason": "audit.torn_tail",
        "message": "the last line was cut short (crash during a write); "
        f"its bytes were moved to {torn.saved_to}",
        "details": torn.details(),
    }
