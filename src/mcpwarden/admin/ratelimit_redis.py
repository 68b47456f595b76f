"""Token buckets in Redis: one limit for every replica, decided by one atomic script.

Several replicas behind a balancer must share a bucket, or a limit of N per second becomes
N per second per replica. Each acquire runs one Lua script on the Redis server, so the
read-refill-take of a bucket is atomic across replicas (no lost updates, no lock), and the
script reads the clock of the Redis server, so replicas whose clocks disagree still refill
the same bucket at the same rate.

Semantics are those of the in-memory `TokenBuckets` (burst, sustained rate, seconds until
the next token). Memory is bounded by expiry: a bucket's key lives only as long as the
bucket takes to refill completely, after which a missing key and a full bucket are the same.

Redis down: `acquire` raises `StoreUnavailable`, so the call is refused (fail closed) with
a clear error rather than let through unlimited.
"""

from __future__ import annotations

import hashlib

import redis

from mcpwarden.admin.ratelimit import Rate
from mcpwarden.store.base import StoreUnavailable

# Keys longer than this (a principal key is issuer|subject|client, all caller-influenced)
# are stored under their SHA-256 so a key never grows with its input.
MAX_KEY_CHARS = 200

# KEYS[1]: the bucket; ARGV: rate (tokens/s), burst, cost. Returns the wait in seconds as a
# string ("0" when allowed): Redis would truncate a Lua number to an integer.
ACQUIRE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
local elapsed = now - at
if elapsed < 0 then elapsed = 0 end
tokens = math.min(burst, tokens + elapsed * rate)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return string.format('%.17g', wait)
"""


class RedisTokenBuckets:
    """A `RateLimiter` shared by every replica that uses the same Redis and key prefix."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.prefix = prefix
        self._script = client.register_script(ACQUIRE)

    def key(self, key: str) -> str:
        if len(key) > MAX_KEY_CHARS:
            key = "h:" + hashlib.sha256(key.encode()).hexdigest()
        return f"{self.prefix}:rl:{key}"

    def acquire(self, key: str, limit: Rate, cost: float = 1.0) -> float:
        try:
            raw = self._script(keys=[self.key(key)], args=[repr(limit.rate), repr(limit.burst), repr(cost)])
        except redis.RedisError as exc:
            raise StoreUnavailable(f"Redis unreachable (rate limits cannot be checked): {exc}") from exc
        return float(raw.decode() if isinstance(raw, bytes) else raw)
