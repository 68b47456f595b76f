"""Subcommands of the `mcpwarden` CLI; each module named in `cli.COMMAND_MODULES` exposes
`register(subparsers)` (`jsonl_io` is a helper shared by the detector commands).

A module's `register` adds its parser and sets `handler=<callable(args) -> int>` via
`set_defaults`. Raise `mcpwarden.cli.UsageError` for bad input (exit code 2).
"""
