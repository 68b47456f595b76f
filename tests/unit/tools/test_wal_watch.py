"""Freshness from the WAL-index header: no SQLite statement while nothing changed, and a
commit by another process is seen on the very next check (issue 17).

SQLite's trace callback lists every statement a connection runs, `PRAGMA data_version`
included, so "no round trip" is checked by the statements traced, not by timing.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from mcpwarden.admin.killswitch import KillSwitch
from mcpwarden.gateway.session_registry import SessionRegistry
from mcpwarden.store import SQLiteStore
from mcpwarden.store.wal_watch import RECHECK_S, WalWatch
from mcpwarden.types import Principal

SRC = Path(__file__).resolve().parents[3] / "src"


def traced(conn: object) -> list[str]:
    statements: list[str] = []
    conn.set_trace_callback(statements.append)  # type: ignore[attr-defined]
    return statements


def in_other_process(db: Path, code: str) -> None:
    """Run `code` with `db` bound, in a separate Python process (its own SQLite connection)."""
    script = f"import sys; sys.path.insert(0, {str(SRC)!r}); db = {str(db)!r}\n" + textwrap.dedent(code)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_revision_runs_no_statement_while_nothing_changed(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    first = store.revision()
    statements = traced(store._conn)
    assert [store.revision() for _ in range(50)] == [first] * 50
    assert statements == []
    store.close()


def test_a_pin_written_by_another_process_changes_the_revision_at_once(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    store = SQLiteStore(db)
    before = store.revision()
    in_other_process(
        db,
        """
        from mcpwarden.store import SQLiteStore
        s = SQLiteStore(db)
        s.new_pin("up", "tool", "echo", {"name": "echo"}, "h1", status="approved")
        s.close()
        """,
    )
    assert store.revision() != before
    assert [p.name for p in store.list_pins("up", kind="tool")] == ["echo"]
    store.close()


def test_own_write_changes_the_revision(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    before = store.revision()
    store.raise_alarm("test")
    assert store.revision() != before
    store.close()


def test_kill_switch_sees_another_process_disable_a_tool_and_costs_no_statement_otherwise(
    tmp_path: Path,
) -> None:
    db = tmp_path / "state.db"
    switch = KillSwitch(db)
    switch.refresh()
    statements = traced(switch._conn)
    assert switch.refresh() == ([], [])
    assert statements == []
    in_other_process(
        db,
        """
        from mcpwarden.admin.killswitch import KillSwitch
        KillSwitch(db).disable("tool", "up__delete", by="ops", reason="incident")
        """,
    )
    added, _ = switch.refresh()
    assert [(d.kind, d.name) for d in added] == [("tool", "up__delete")]
    switch.close()


def test_session_revoked_by_another_process_is_seen_on_the_next_poll(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    registry = SessionRegistry(db)
    registry.add("sess-1", Principal(), "/mcp", ["up"])
    assert registry.revoked_since_last_poll() == []
    statements = traced(registry._conn)
    assert registry.revoked_since_last_poll() == []
    assert statements == []
    handle = registry.rows()[0].handle
    in_other_process(
        db,
        f"""
        from mcpwarden.gateway.session_registry import SessionRegistry
        SessionRegistry(db, pid=1).revoke(handle={handle!r}, by="ops")
        """,
    )
    assert registry.revoked_since_last_poll() == [handle]
    registry.close()


def test_no_wal_index_gives_no_answer(tmp_path: Path) -> None:
    assert WalWatch(":memory:").header() is None
    assert WalWatch(str(tmp_path / "missing.db")).header() is None


def test_a_replaced_shm_file_is_read_anew(tmp_path: Path) -> None:
    shm = tmp_path / "x.db-shm"
    shm.write_bytes(b"\x01" * 48)
    watch = WalWatch(str(tmp_path / "x.db"))
    assert watch.header() == b"\x01" * 48
    shm.unlink()
    shm.write_bytes(b"\x02" * 48)
    watch._checked -= RECHECK_S  # the once-a-second check of the path is due
    assert watch.header() == b"\x02" * 48
    watch.close()
