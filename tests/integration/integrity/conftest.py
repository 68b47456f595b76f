"""Tool-integrity integration tests; their helpers live in integrity_kit.py next to this file."""

from __future__ import annotations

import sys
from pathlib import Path

# Make the helpers module importable however pytest imports the test modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))
