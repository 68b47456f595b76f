"""One way to open a Redis client for the gateway: every wait bounded by `store.timeout_s`.

redis-py retries a failed command ten times with backoff by default, so a Redis that went
away would hold each request for many seconds before it could be refused. The gateway
fails closed instead: one retry, without backoff (enough to replace a pooled connection
that a Redis restart closed), then the error.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

RETRIES = 1


def redis_client(url: str, timeout_s: float, **options: Any) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), RETRIES),
        **options,
    )
