"""Persistence behind one small interface; SQLite is the embedded default."""

from mcpwarden.store.base import PIN_STATUSES, Pin, PinStatus, Store, StoreError
from mcpwarden.store.sqlite import SQLiteStore

__all__ = ["PIN_STATUSES", "Pin", "PinStatus", "SQLiteStore", "Store", "StoreError"]
