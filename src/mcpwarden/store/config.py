"""The `store:` and `replica:` sections of the gateway config.

Their own module so that `mcpwarden.config` stays one screenful per concern; the gateway
config imports them, nothing here imports the gateway.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mcpwarden.types import FileUse


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreConfig(_Model):
    """Where shared state lives: one SQLite file (default) or PostgreSQL + Redis for replicas."""

    backend: Literal["sqlite", "postgres"] = Field(
        "sqlite",
        description="sqlite: one embedded file (a single gateway). postgres: pins, approvals and the "
        "live-session table in PostgreSQL, ownership and change notifications in Redis (replicas).",
    )
    path: Annotated[
        str, FileUse("write", "a file the gateway can create and write", only_if=("backend", "sqlite"))
    ] = Field("var/mcpwarden.sqlite3", description="SQLite file (backend sqlite).")
    url: str | None = Field(
        None, description="PostgreSQL URL, e.g. postgresql://127.0.0.1:5432/mcpwarden (backend postgres)."
    )
    schema_name: str = Field(
        "mcpwarden",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL schema holding the gateway's tables (created if missing).",
    )
    redis_url: str | None = Field(
        None, description="Redis URL, e.g. redis://127.0.0.1:6379/0 (required by backend postgres)."
    )
    redis_prefix: str = Field(
        "mcpwarden",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="Prefix of every Redis key and channel, so several deployments can share a server.",
    )
    timeout_s: float = Field(
        2.0, gt=0, le=30, description="Connect and query timeout: a down backend fails calls after this."
    )

    @model_validator(mode="after")
    def _backend_settings(self) -> StoreConfig:
        if self.backend == "postgres" and (not self.url or not self.redis_url):
            raise ValueError("store backend postgres needs both url (PostgreSQL) and redis_url (Redis)")
        return self


class ReplicaConfig(_Model):
    """This process's identity among several replicas of one gateway."""

    id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="Replica id recorded in every audit record and as session owner. Default: host-pid.",
    )
    url: str | None = Field(
        None, description="Where this replica is reached directly; shown to clients that hit another one."
    )

    def resolved_id(self) -> str:
        import socket

        return self.id or f"{socket.gethostname()}-{os.getpid()}"
