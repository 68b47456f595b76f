"""`audit.rotate` in the gateway config: when the active audit file is rotated out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mcpwarden.audit.rotation import RotationPolicy


class RotateConfig(BaseModel):
    """Size and/or age rotation; the hash chain goes on across the files (docs/audit.md)."""

    model_config = ConfigDict(extra="forbid")

    max_bytes: int | None = Field(
        None, ge=4096, description="Rotate once the active file holds this many bytes (null: no size limit)."
    )
    max_age_s: float | None = Field(
        None, ge=1, description="Rotate once the active file is this many seconds old (null: no age limit)."
    )

    @model_validator(mode="after")
    def _one_trigger(self) -> RotateConfig:
        if self.max_bytes is None and self.max_age_s is None:
            raise ValueError("rotate needs max_bytes, max_age_s or both")
        return self

    def policy(self) -> RotationPolicy:
        return RotationPolicy(self.max_bytes, self.max_age_s)
