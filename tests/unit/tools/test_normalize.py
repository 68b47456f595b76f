"""The detector's own normalization: what is folded, what is counted."""

from __future__ import annotations

from mcpwarden.detect.tools.normalize import normalize, scripts_of, skeleton


def test_tag_characters_are_decoded_to_their_ascii() -> None:
    n = normalize("hi" + "".join(chr(0xE0000 + ord(c)) for c in "run rm"))
    assert n.tags == 6 and n.tag_payload == "run rm" and n.text == "hirun rm"


def test_ansi_sequences_are_removed_and_counted() -> None:
    n = normalize("a\x1b[31mred\x1b[0m b\x1b]0;title\x07c")
    assert n.ansi == 3 and n.text == "ared bc"


def test_bidi_controls_are_counted() -> None:
    assert normalize("x\u202ey\u2066z").bidi == 2


def test_fullwidth_letters_are_folded_by_nfkc() -> None:
    assert normalize("ＩＭＰＯＲＴＡＮＴ").text == "important"


def test_skeletons_of_lookalike_names_match() -> None:
    assert skeleton("paypal_login") == skeleton("pаypa1_login")  # Cyrillic а, digit 1


def test_scripts_of_mixed_word() -> None:
    assert scripts_of("pаy") == {"LATIN", "CYRILLIC"}
