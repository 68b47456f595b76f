"""How one upstream's (or one tool's) content is defended: the `content:` block of the config.

Kept apart from the guard so the config module can import it without the detectors.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mcpwarden.detect.text.spotlight import Mode

InjectionAction = Literal["block", "annotate", "log", "pass"]
ArgumentAction = Literal["block", "redact", "log", "pass"]


class ContentPolicy(BaseModel):
    """How one upstream's (or one tool's) content is defended."""

    model_config = ConfigDict(extra="forbid")

    # server -> client: tool results, resource contents, prompts, sampling requests
    threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="score at which content counts as an injection (None: model default)",
    )
    block_threshold: Annotated[float, Field(ge=0.0, le=1.0)] | Literal["calibrated"] | None = Field(
        "calibrated",
        description=(
            "block at or above this score whatever on_injection says; 'calibrated': the model's "
            "own block point for tool output, never below 0.9; null: never"
        ),
    )
    small_model: bool = Field(
        False,
        description=(
            "re-score texts in the linear tier's uncertain band with the MiniLM tier "
            "(docs/detect-text.md); its files must load at startup"
        ),
    )
    on_injection: InjectionAction = Field("annotate", description="action between threshold and block")
    block_as: Literal["error", "tool_error"] = Field(
        "error", description="JSON-RPC error, or a tool result with isError: true (tool calls only)"
    )
    spotlight: Literal["always", "flagged", "never"] = "always"
    spotlight_mode: Mode = "delimit"
    redact_secrets: bool = True
    redact_pii: bool = False
    # client -> server: tool call arguments
    outbound: bool = Field(False, description="the tool sends data out; secrets in its arguments are denied")
    argument_secrets: ArgumentAction = "log"
    argument_pii: ArgumentAction = "pass"
    # tool-name glob -> fields overriding the ones above for matching tools
    tools: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _validate_overrides(self) -> ContentPolicy:
        for pattern, override in self.tools.items():
            if "tools" in override:
                raise ValueError(f"tool override {pattern!r} cannot nest 'tools'")
            self.for_tool_override(override)
        return self

    def for_tool_override(self, override: Mapping[str, Any]) -> ContentPolicy:
        base = self.model_dump(exclude={"tools"})
        return ContentPolicy.model_validate({**base, **override})

    def for_tool(self, tool: str | None) -> ContentPolicy:
        """This policy with the overrides of every glob matching `tool`, in declaration order."""
        if not tool or not self.tools:
            return self
        merged: dict[str, Any] = {}
        for pattern, override in self.tools.items():
            if fnmatch.fnmatchcase(tool, pattern):
                merged.update(override)
        return self.for_tool_override(merged) if merged else self
