"""One test per kind of tampering: each must fail verification at the right line."""

from __future__ import annotations

from pathlib import Path

import orjson

from mcpwarden.audit import head_path, verify

from .helpers import reseal, rewrite, write_log


def test_intact_log_verifies_with_every_record_counted(log_path: Path) -> None:
    write_log(log_path, 6)
    result = verify(log_path)
    assert result.ok
    assert result.records == 6
    assert result.anchor is not None and result.anchor.seq == 6


def test_edited_field_is_named_by_its_line(log_path: Path) -> None:
    lines = write_log(log_path, 6)
    lines[2] = lines[2].replace(b'"tool":"read_file"', b'"tool":"read_fil3"')
    rewrite(log_path, lines)
    result = verify(log_path)
    assert not result.ok
    assert result.bad_line == 3
    assert "edited" in (result.reason or "")


def test_deleted_middle_line_is_detected_where_the_gap_is(log_path: Path) -> None:
    lines = write_log(log_path, 6)
    del lines[3]
    rewrite(log_path, lines)
    result = verify(log_path)
    assert not result.ok
    assert result.bad_line == 4
    assert "removed" in (result.reason or "")


def test_inserted_forged_line_with_recomputed_hash_breaks_the_next_line(log_path: Path) -> None:
    lines = write_log(log_path, 6)
    forged = orjson.loads(lines[2])
    forged.update(seq=4, prev=forged["hash"], tool="delete_everything")
    lines.insert(3, reseal(forged))
    rewrite(log_path, lines)
    result = verify(log_path)
    assert not result.ok
    # The forgery itself fits (right seq, prev and hash); the chain breaks on the line after it.
    assert result.bad_line == 5


def test_swapped_lines_are_detected_at_the_first_moved_line(log_path: Path) -> None:
    lines = write_log(log_path, 6)
    lines[1], lines[2] = lines[2], lines[1]
    rewrite(log_path, lines)
    result = verify(log_path)
    assert not result.ok
    assert result.bad_line == 2


def test_tail_truncated_by_whole_lines_is_caught_by_the_head_anchor(log_path: Path) -> None:
    lines = write_log(log_path, 6)
    rewrite(log_path, lines[:4])
    result = verify(log_path)
    assert not result.ok
    assert result.bad_line == 5
    assert "2 line(s) were removed from the end" in (result.reason or "")


def test_tail_truncation_without_anchor_passes_but_says_it_is_unanchored(log_path: Path) -> None:
    lines = write_log(log_path, 6)
    rewrite(log_path, lines[:4])
    head_path(log_path).unlink()
    result = verify(log_path)
    assert result.ok
    assert "no head anchor" in result.summary()


def test_missing_anchor_fails_when_required(log_path: Path) -> None:
    write_log(log_path, 3)
    head_path(log_path).unlink()
    result = verify(log_path, require_head=True)
    assert not result.ok
    assert result.bad_line is None


def test_tail_truncated_mid_line_is_detected(log_path: Path) -> None:
    lines = write_log(log_path, 6)
    lines[-1] = lines[-1][:40]
    rewrite(log_path, lines)
    result = verify(log_path)
    assert not result.ok
    assert result.bad_line == 6
    assert "cut mid-line" in (result.reason or "")


def test_deleted_first_line_is_detected_on_line_one(log_path: Path) -> None:
    lines = write_log(log_path, 6)
    rewrite(log_path, lines[1:])
    result = verify(log_path)
    assert not result.ok
    assert result.bad_line == 1
    assert "first 1 line(s) were removed" in (result.reason or "")


def test_chain_rewritten_after_an_edit_is_caught_by_the_head_anchor(log_path: Path) -> None:
    lines = write_log(log_path, 6)
    records = [orjson.loads(line) for line in lines]
    records[2]["tool"] = "delete_everything"
    for i in range(2, len(records)):
        if i > 2:
            records[i]["prev"] = records[i - 1]["hash"]
        lines[i] = reseal(records[i])
    rewrite(log_path, lines)
    result = verify(log_path)
    assert not result.ok
    assert result.bad_line == 6
    assert "rewritten" in (result.reason or "")


def test_line_from_another_chain_is_detected(log_path: Path, tmp_path: Path) -> None:
    lines = write_log(log_path, 4)
    other = write_log(tmp_path / "other.jsonl", 4)
    lines[2] = other[2]
    rewrite(log_path, lines)
    result = verify(log_path)
    assert not result.ok
    assert result.bad_line == 3


def test_corrupt_head_anchor_is_reported(log_path: Path) -> None:
    write_log(log_path, 3)
    head_path(log_path).write_text("{not json")
    result = verify(log_path)
    assert not result.ok
    assert "head anchor" in result.summary()


def test_garbage_line_is_reported_as_not_json(log_path: Path) -> None:
    lines = write_log(log_path, 3)
    lines.insert(1, b"\xff\xfe garbage\n")
    rewrite(log_path, lines)
    result = verify(log_path)
    assert not result.ok
    assert result.bad_line == 2
    assert "not valid JSON" in (result.reason or "")
