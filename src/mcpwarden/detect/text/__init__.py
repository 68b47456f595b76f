"""Content defense for free text: normalization, injection scoring, secrets and PII.

Callers use the functions re-exported here; the submodules are implementation detail.
"""

from __future__ import annotations

from mcpwarden.detect.text.model import CHANNELS, Channel
from mcpwarden.detect.text.pii import find_pii
from mcpwarden.detect.text.redact import Redactor
from mcpwarden.detect.text.scan import block_threshold, default_threshold, scan_text
from mcpwarden.detect.text.secrets import find_secrets

__all__ = [
    "CHANNELS",
    "Channel",
    "Redactor",
    "block_threshold",
    "default_threshold",
    "find_pii",
    "find_secrets",
    "scan_text",
]
