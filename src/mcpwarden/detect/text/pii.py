"""Personal data in text: e-mail, phone, payment card, IBAN and a few national ids.

Number-shaped identifiers are only reported when their checksum or validity rules
hold (Luhn for cards, ISO 7064 mod-97 for IBANs, SSA allocation rules for US SSNs,
HMRC prefix rules for UK NI numbers), because digit runs are everywhere in tool output
(order numbers, timestamps) and a false redaction destroys useful data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mcpwarden.detect.findings import Finding, Severity
from mcpwarden.detect.text._re import Pattern, compile_re, encodable

# ISO 13616 lengths per country (the registry's common members).
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip


def luhn_valid(digits: str) -> bool:
    """The Luhn check every payment card number satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """Country length plus the ISO 7064 mod-97 check (remainder 1)."""
    iban = candidate.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    remainder = 0
    for ch in rearranged:
        if ch.isdigit():
            remainder = (remainder * 10 + int(ch)) % 97
        elif "A" <= ch <= "Z":
            remainder = (remainder * 100 + ord(ch) - 55) % 97
        else:
            return False
    return remainder == 1


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _card_ok(value: str) -> bool:
    d = _digits(value)
    if not 13 <= len(d) <= 19 or not luhn_valid(d) or len(set(d)) < 2:
        return False
    # Issuer prefixes of the major networks; other digit runs passing Luhn by chance are common.
    return d[0] in "3456" or d[:2] in {"22", "23", "24", "25", "26", "27", "62", "81"}


def ssn_valid(value: str) -> bool:
    """SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    d = _digits(value)
    if len(d) != 9:
        return False
    area, group, serial = d[:3], d[3:5], d[5:]
    if area in {"000", "666"} or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return d not in {"078051120", "219099999", "123456789"}  # published examples, never issued


def nino_valid(value: str) -> bool:
    """HMRC: prefix letters D, F, I, Q, U, V never used; O not second; some pairs never issued."""
    v = value.replace(" ", "").upper()
    if len(v) != 9:
        return False
    prefix = v[:2]
    if any(c in "DFIQUV" for c in prefix) or prefix[1] == "O":
        return False
    return prefix not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}


def _phone_ok(value: str) -> bool:
    d = _digits(value)
    return 10 <= len(d) <= 15 and len(set(d)) >= 3


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: str
    severity: Severity
    pattern: Pattern
    check: Callable[[str], bool] | None


_RULES: tuple[_Rule, ...] = (
    _Rule(
        "email",
        Severity.MEDIUM,
        compile_re(
            r"\b[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?"
            r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b"
        ),
        None,
    ),
    _Rule("payment-card", Severity.HIGH, compile_re(r"\b\d(?:[ \-]?\d){12,18}\b"), _card_ok),
    _Rule(
        "iban",
        Severity.HIGH,
        compile_re(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b"),
        iban_valid,
    ),
    _Rule("us-ssn", Severity.HIGH, compile_re(r"\b\d{3}-\d{2}-\d{4}\b"), ssn_valid),
    _Rule(
        "uk-nino",
        Severity.HIGH,
        compile_re(r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"),
        nino_valid,
    ),
    _Rule(
        "phone",
        Severity.LOW,
        compile_re(
            r"(?:\+\d{1,3}[ .\-]?)?(?:\(\d{2,4}\)|\d{2,4})[ .\-]\d{3,4}[ .\-]\d{3,4}\b"
            r"|\+\d{9,15}\b"
        ),
        _phone_ok,
    ),
)


def find_pii(text: str) -> list[Finding]:
    """Personal data in `text`, each as a `pii.<kind>` finding with its span.

    Earlier rules win on overlap, so a card number is not also reported as a phone number.
    """
    text = encodable(text)
    found: list[Finding] = []
    taken: list[tuple[int, int]] = []
    for rule in _RULES:
        for m in rule.pattern.finditer(text):
            span = m.span()
            if any(span[0] < e and s < span[1] for s, e in taken):
                continue
            if rule.check is not None and not rule.check(m.group()):
                continue
            taken.append(span)
            found.append(Finding(f"pii.{rule.kind}", rule.severity, f"{rule.kind} in text", span=span))
    found.sort(key=lambda f: f.span or (0, 0))
    return found
