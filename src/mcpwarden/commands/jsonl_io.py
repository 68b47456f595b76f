"""Reading and writing the JSONL files of the detector contracts (`detect`, `scan-tools`).

Both commands read rows with an `id` and one payload field and write one verdict per row;
every input problem is a UsageError (exit code 2) that names the file and line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from mcpwarden.cli import UsageError


def read_rows(path: Path | None, field: str, kind: type, kind_name: str) -> list[tuple[Any, Any]]:
    """(id, row[field]) pairs, where row[field] must be an instance of `kind`.

    `path` None reads standard input (named `<stdin>` in messages), so rows can be piped in.
    """
    if path is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("no input: pass --input FILE.jsonl or pipe JSONL rows on stdin")
        return parse_rows(sys.stdin.buffer.read(), "<stdin>", field, kind, kind_name)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"input file not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_rows(raw, str(path), field, kind, kind_name)


def parse_rows(raw: bytes, path: str, field: str, kind: type, kind_name: str) -> list[tuple[Any, Any]]:
    rows: list[tuple[Any, Any]] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise UsageError(f"{path}: line {number}: invalid JSON ({exc})") from None
        if not isinstance(row, dict):
            raise UsageError(f"{path}: line {number}: expected a JSON object")
        if "id" not in row:
            raise UsageError(f"{path}: line {number}: missing field 'id'")
        if field not in row:
            raise UsageError(f"{path}: line {number}: missing field {field!r}")
        if not isinstance(row[field], kind):
            raise UsageError(f"{path}: line {number}: field {field!r} must be {kind_name}")
        rows.append((row["id"], row[field]))
    return rows


def write_rows(rows: Iterable[dict[str, Any]], output: str | None) -> None:
    """One JSON object per line, to `output` or stdout."""
    payload = b"".join(orjson.dumps(row) + b"\n" for row in rows)
    if output:
        try:
            Path(output).write_bytes(payload)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
