"""Counts of unanswered client requests per principal, across all of its sessions.

One principal must not be able to occupy the gateway (and the upstreams behind it) with
requests that never end, whatever number of sessions it opens: each request takes a slot
when it starts and gives it back when its task ends, however it ends.
"""

from __future__ import annotations


class InFlightQuota:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._total = 0

    def try_acquire(self, key: str) -> bool:
        """Take a slot for `key`; False (and nothing taken) when it has `limit` already."""
        count = self._counts.get(key, 0)
        if count >= self.limit:
            return False
        self._counts[key] = count + 1
        self._total += 1
        return True

    def release(self, key: str) -> None:
        if key not in self._counts:
            return
        self._total -= 1
        count = self._counts[key] - 1
        if count > 0:
            self._counts[key] = count
        else:
            self._counts.pop(key, None)

    def held(self, key: str) -> int:
        return self._counts.get(key, 0)

    def total(self) -> int:
        """Requests in flight over all principals (reported by /healthz)."""
        return self._total
