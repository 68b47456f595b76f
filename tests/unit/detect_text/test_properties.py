"""Properties that must hold for any input: no crash, scores in range, spans inside the text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpwarden.detect.text import find_pii, find_secrets, scan_text
from mcpwarden.detect.text.normalize import normalize

# Mix plain text with the characters normalization treats specially.
SPECIAL = st.sampled_from(
    [
        "\u200b",
        "\u202e",
        "\x1b[1m",
        "\U000e0069",
        "\ufe01",
        "\U000e0101",
        "а",
        "ο",
        "&#105;",
        "%69",
        "<!--",
        "-->",
    ]
)
TEXT = st.lists(st.one_of(st.text(max_size=20), SPECIAL), max_size=30).map("".join)


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_scan_never_fails_and_keeps_spans_inside_the_text(text: str) -> None:
    detection = scan_text(text)
    assert 0.0 <= detection.score <= 1.0
    for finding in detection.findings:
        if finding.span is not None:
            start, end = finding.span
            assert 0 <= start <= end <= len(text)


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_normalized_offsets_point_into_the_original(text: str) -> None:
    norm = normalize(text)
    if norm.offsets is not None:
        assert len(norm.offsets) == len(norm.text)
        assert all(0 <= o < len(text) for o in norm.offsets)
        assert norm.offsets == sorted(norm.offsets)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_secret_and_pii_spans_are_inside_the_text(text: str) -> None:
    for finding in find_secrets(text) + find_pii(text):
        assert finding.span is not None
        assert 0 <= finding.span[0] < finding.span[1] <= len(text)


def test_lone_surrogates_do_not_crash_the_scan() -> None:
    assert 0.0 <= scan_text("broken \ud800 text").score <= 1.0
