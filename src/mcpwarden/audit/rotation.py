"""When the active audit file is rotated out: by size, by age, or both.

Rotation itself (rename, new file, continuation record) is `AuditLog.rotate`; this module
only decides when, cheaply enough to ask before every record: one comparison of the bytes
written, one of a monotonic clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RotationPolicy:
    """Rotate once the active file holds `max_bytes`, or once it is `max_age_s` old.

    Either may be None (that trigger is off). A file is never rotated before it holds a
    record of its own, so an idle gateway does not produce a trail of one-line files.
    """

    max_bytes: int | None = None
    max_age_s: float | None = None
    # Seconds from an arbitrary start; injectable so age rotation is testable without waiting.
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    def __post_init__(self) -> None:
        if self.max_bytes is not None and self.max_bytes < 1:
            raise ValueError("rotate max_bytes must be positive")
        if self.max_age_s is not None and self.max_age_s <= 0:
            raise ValueError("rotate max_age_s must be positive")

    @property
    def enabled(self) -> bool:
        return self.max_bytes is not None or self.max_age_s is not None

    def due(self, size: int, opened_at: float, records: int) -> bool:
        """Whether the next record should go to a new file (`opened_at`: from `clock`)."""
        if records < 1:
            return False
        if self.max_bytes is not None and size >= self.max_bytes:
            return True
        return self.max_age_s is not None and self.clock() - opened_at >= self.max_age_s
