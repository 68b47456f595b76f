"""Property tests: the parsers and the launch analysis take any input without crashing."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from scan_testkit import make_entry

from mcpwarden.scan.analysis import analyze
from mcpwarden.scan.checks import run_static_checks
from mcpwarden.scan.jsonc import JsonSyntaxError, parse

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json_values, st.sampled_from([None, 0, 2]))
def test_any_json_document_parses_like_the_standard_library(value: Any, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)
    assert parse(text).value == json.loads(text)
    assert parse(text, comments=True, trailing_commas=True).value == json.loads(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet='{}[]":,/*\n\\ 0123456789-eE.truefalsn', max_size=60))
def test_arbitrary_text_parses_or_raises_a_syntax_error(text: str) -> None:
    try:
        parse(text, comments=True, trailing_commas=True)
    except JsonSyntaxError as exc:
        assert exc.line >= 1 and exc.column >= 1


_TOKENS = [
    "npx",
    "-y",
    "-p",
    "uvx",
    "--from",
    "docker",
    "run",
    "-v",
    "/:/h",
    "cmd",
    "/c",
    "bash",
    "-c",
    "sudo",
    "env",
    "A=1",
    "pkg@1.0.0",
    "@s/p@latest",
    "powershell",
    "-EncodedCommand",
    "|",
    "&&",
    "curl",
    "sh",
    "--",
    "x==1",
]
_tokens = st.sampled_from(_TOKENS)


@settings(max_examples=300, deadline=None)
@given(_tokens, st.lists(_tokens | st.text(max_size=12), max_size=10))
def test_launch_analysis_and_checks_never_crash(command: str, args: list[str]) -> None:
    entry = make_entry(command, args)
    analyze(entry)
    for issue in run_static_checks([entry]):
        assert issue.rule_id.startswith("MCPW-S")
