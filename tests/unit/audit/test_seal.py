"""The write fast path: a record serialized once (in two halves) and hashed from those bytes
gives exactly the line and hash that `verify` recomputes from the parsed line."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import orjson
import pytest

from mcpwarden.audit.canonical import canonical_json, to_plain_json
from mcpwarden.audit.chain import record_hash, seal
from mcpwarden.audit.notices import utc_timestamp

CHAINED = {"chain": "c" * 32, "seq": 9, "prev": "p" * 64}


@pytest.mark.parametrize(
    "fields",
    [
        {"event": "request"},
        {"event": "decision", "args_sha256": "a" * 64, "upstream": "files", "tool": "t", "time": "x"},
        {"event": "alert", "details": {"nested": [1, 2.5, None, 'é\u2028"\\'], "z": {"k": True}}},
        {"event": "e", "guard": "g", "hook_like": 1, "latency_ms": 0.1, "session": "s", "zzz": ""},
    ],
)
def test_the_sealed_line_is_canonical_and_its_hash_verifies(fields: dict[str, object]) -> None:
    record = to_plain_json({**fields, **CHAINED})
    sealed, line = seal(dict(record))
    parsed = orjson.loads(line)
    assert line == canonical_json(parsed) + b"\n"
    assert record_hash(parsed) == parsed["hash"] == sealed["hash"]


def test_a_record_without_chain_fields_is_sealed_the_plain_way() -> None:
    sealed, line = seal({"event": "x"})
    assert orjson.loads(line) == sealed
    assert sealed["hash"] == record_hash(sealed)


def test_timestamps_are_rfc3339_utc_with_microseconds_and_current() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = utc_timestamp()
    after = datetime.now(UTC)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)
    parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert before <= parsed <= after
