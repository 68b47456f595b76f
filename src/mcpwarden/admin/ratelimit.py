"""Rate limits (token buckets) and concurrency limits, behind interfaces a shared store can implement.

A token bucket holds up to `burst` tokens and refills at `rate` tokens per second; each
call takes one. `burst` allows short spikes, `rate` is the sustained ceiling. When a bucket
is empty the caller learns how long until the next token (`Retry-After`).

`RateLimiter` and `ConcurrencyLimiter` are protocols: the in-memory implementations here
serve one gateway process; several replicas would implement the same two methods on Redis
(an atomic script per acquire) and share the counters. Both bound their memory: at most
`max_keys` keys are tracked, and buckets that have refilled completely are the first to go.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

DEFAULT_MAX_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class Rate:
    """Sustained `rate` per second with room for `burst` calls at once."""

    rate: float
    burst: float

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be positive and burst at least 1")


class RateLimiter(Protocol):
    def acquire(self, key: str, limit: Rate, cost: float = 1.0) -> float:
        """Take `cost` tokens from `key`'s bucket: 0.0 when allowed, else seconds until it would be."""
        ...


class ConcurrencyLimiter(Protocol):
    def enter(self, key: str, limit: int) -> bool:
        """Count one more call in flight for `key`, unless `limit` are already in flight."""
        ...

    def leave(self, key: str) -> None:
        """One call for `key` finished."""
        ...


class TokenBuckets:
    """In-memory `RateLimiter`; thread-safe; `clock` is injectable for tests."""

    def __init__(
        self, *, max_keys: int = DEFAULT_MAX_KEYS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def acquire(self, key: str, limit: Rate, cost: float = 1.0) -> float:
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (limit.burst, now))
            tokens = min(limit.burst, tokens + (now - at) * limit.rate)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                self._evict()
                return 0.0
            self._buckets[key] = (tokens, now)
            return (cost - tokens) / limit.rate

    def _evict(self) -> None:
        # Least recently used first: an idle key's bucket is (or soon is) full, so
        # forgetting it changes nothing for that caller.
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)


class InFlightCounts:
    """In-memory `ConcurrencyLimiter`; keys vanish when their count returns to zero."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, key: str, limit: int) -> bool:
        with self._lock:
            n = self._counts.get(key, 0)
            if n >= limit:
                return False
            self._counts[key] = n + 1
            return True

    def leave(self, key: str) -> None:
        with self._lock:
            n = self._counts.get(key, 0) - 1
            if n > 0:
                self._counts[key] = n
            else:
                self._counts.pop(key, None)

    def current(self, key: str) -> int:
        return self._counts.get(key, 0)
