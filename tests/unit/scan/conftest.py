"""Fixtures for the scanner's unit tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helpers module sits next to this file; make it importable however pytest imports us.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_testkit import FIXTURES, RuleRunner

from mcpwarden.scan.checks import CheckContext, run_static_checks
from mcpwarden.scan.model import Issue, ServerEntry


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def run_rule() -> RuleRunner:
    """Run all static checks on one server and keep the issues of one rule."""

    def run(rule_id: str, entry: ServerEntry, ctx: CheckContext | None = None) -> list[Issue]:
        return [i for i in run_static_checks([entry], ctx) if i.rule_id == rule_id]

    return run
