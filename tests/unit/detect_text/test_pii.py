"""PII: each identifier family, with checksum and validity negatives."""

from __future__ import annotations

import pytest

from mcpwarden.detect.text import find_pii
from mcpwarden.detect.text.pii import iban_valid, luhn_valid, ssn_valid


def _rules(text: str) -> list[str]:
    return [f.rule for f in find_pii(text)]


def test_email_address_is_found_with_span() -> None:
    text = "write to bob.smith+tag@mail.example.co.uk today"
    (f,) = find_pii(text)
    assert (
        f.rule == "pii.email" and f.span and text[f.span[0] : f.span[1]] == "bob.smith+tag@mail.example.co.uk"
    )


def test_luhn_valid_card_is_found() -> None:
    assert _rules("card 4111 1111 1111 1111 exp 12/29") == ["pii.payment-card"]


def test_card_number_failing_luhn_is_ignored() -> None:
    assert not luhn_valid("4111111111111112")
    assert "pii.payment-card" not in _rules("card 4111 1111 1111 1112")


def test_iban_with_valid_checksum_is_found() -> None:
    assert _rules("pay to GB82 WEST 1234 5698 7654 32 please") == ["pii.iban"]


def test_iban_with_wrong_checksum_is_ignored() -> None:
    assert not iban_valid("GB82WEST12345698765433")
    assert _rules("pay to GB82WEST12345698765433") == []


@pytest.mark.parametrize("ssn", ["000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000"])
def test_ssn_breaking_allocation_rules_is_ignored(ssn: str) -> None:
    assert not ssn_valid(ssn)
    assert "pii.us-ssn" not in _rules(f"ssn {ssn}")


def test_valid_ssn_is_found() -> None:
    assert _rules("ssn 536-22-1234") == ["pii.us-ssn"]


def test_uk_national_insurance_number_is_found_and_bad_prefix_ignored() -> None:
    assert _rules("NI AB123456C") == ["pii.uk-nino"]
    assert _rules("NI QQ123456C") == []


def test_phone_numbers_in_common_formats_are_found() -> None:
    assert _rules("call +1 415-555-2671 or (415) 555-2671") == ["pii.phone", "pii.phone"]


def test_dates_and_versions_are_not_phone_numbers() -> None:
    assert _rules("released 2024-01-15, version 1.2.3, build 20240115") == []
