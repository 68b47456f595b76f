"""Change notifications between replicas over Redis pub/sub.

Why a feed and not a poll: the hot path compares a per-topic *generation* (an integer in
this process) to decide whether what it cached from PostgreSQL is stale, so an unchanged
store costs no round trip at all, and a change published by another replica (a pin
approval, a revocation) bumps the generation here as soon as Redis delivers it, well
within a second.

A feed that is not connected cannot vouch for anything: `generation()` then returns None
and callers fall back to asking the database on every use (slower, still correct). After a
reconnect every topic is bumped once, because messages sent while we were away are lost.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import orjson
import redis

from mcpwarden.store.redis_client import redis_client

log = logging.getLogger("mcpwarden.store.changes")

TOPICS = ("pins", "sessions", "killswitch", "ratelimit")
# Messages larger than this are not ours: ignore them rather than parse them.
MAX_MESSAGE_BYTES = 4096


class ChangeFeed:
    """Publish and receive `{topic, replica}` change messages on one Redis channel."""

    def __init__(self, url: str, prefix: str, replica: str, *, timeout_s: float = 2.0) -> None:
        self.channel = f"{prefix}:changes"
        self.replica = replica
        self._timeout_s = timeout_s
        self._client = redis_client(url, timeout_s, health_check_interval=5)
        self._url = url
        self._lock = threading.Lock()
        self._generations: dict[str, int] = dict.fromkeys(TOPICS, 0)
        self._connected = False
        self._listeners: list[Callable[[str], None]] = []
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, wait_s: float | None = None) -> bool:
        """Start listening; with `wait_s`, wait that long for the subscription to be live."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)
            self._thread.start()
        if wait_s is not None:
            return self._subscribed.wait(wait_s)
        return self._connected

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._timeout_s + 2)
            self._thread = None
        with contextlib.suppress(redis.RedisError):
            self._client.close()

    def add_listener(self, fn: Callable[[str], None]) -> None:
        """Call `fn(topic)` from the feed's thread after each change (and on reconnect)."""
        self._listeners.append(fn)

    # -- use ---------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    def generation(self, topic: str) -> int | None:
        """This topic's change counter, or None while the feed cannot vouch for it."""
        with self._lock:
            return self._generations[topic] if self._connected else None

    def publish(self, topic: str) -> None:
        """Tell every replica (this one included) that `topic` changed.

        Raises `redis.RedisError` when Redis is unreachable; callers that just committed a
        change log it: the others then learn of it only through their fallback reads.
        """
        self._client.publish(self.channel, orjson.dumps({"topic": topic, "replica": self.replica}))

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except redis.RedisError:
            return False

    # -- the listening thread ----------------------------------------------------------------

    def _bump(self, topics: tuple[str, ...]) -> None:
        with self._lock:
            for topic in topics:
                self._generations[topic] += 1
        for topic in topics:
            for fn in self._listeners:
                try:
                    fn(topic)
                except Exception:  # a listener's bug must not stop the feed
                    log.exception("change listener failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                # Anything published while we were not subscribed is lost: assume it all changed.
                with self._lock:
                    self._connected = True
                self._bump(TOPICS)
                self._subscribed.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None:
                        self._handle(message.get("data"))
            except (redis.RedisError, OSError) as exc:
                if self._connected:
                    log.warning("change feed lost Redis (%s); falling back to database reads", exc)
            finally:
                with self._lock:
                    self._connected = False
                with contextlib.suppress(Exception):
                    pubsub.close()
            self._stop.wait(0.5)

    def _handle(self, data: object) -> None:
        if not isinstance(data, bytes) or len(data) > MAX_MESSAGE_BYTES:
            return
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        topic = message.get("topic") if isinstance(message, dict) else None
        if topic in self._generations:
            self._bump((topic,))
