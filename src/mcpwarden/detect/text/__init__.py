"""Content defense for free text: normalization, injection scoring, secrets and PII.

Callers use the functions re-exported here; the submodules are implementation detail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcpwarden.lazy import lazy_exports

if TYPE_CHECKING:
    from mcpwarden.detect.text.model import CHANNELS, Channel
    from mcpwarden.detect.text.pii import find_pii
    from mcpwarden.detect.text.redact import Redactor
    from mcpwarden.detect.text.scan import block_threshold, default_threshold, scan_text
    from mcpwarden.detect.text.secrets import find_secrets

# Names are imported on first use (see mcpwarden.lazy): importing one submodule of this
# package must not pay for the others.
__getattr__ = lazy_exports(
    __name__,
    {
        "CHANNELS": "mcpwarden.detect.text.model",
        "Channel": "mcpwarden.detect.text.model",
        "find_pii": "mcpwarden.detect.text.pii",
        "Redactor": "mcpwarden.detect.text.redact",
        "block_threshold": "mcpwarden.detect.text.scan",
        "default_threshold": "mcpwarden.detect.text.scan",
        "scan_text": "mcpwarden.detect.text.scan",
        "find_secrets": "mcpwarden.detect.text.secrets",
    },
)

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
