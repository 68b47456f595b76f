"""Subcommands of the `mcpwarden` CLI; each module exposes `register(subparsers)`.

A module's `register` adds its parser and sets `handler=<callable(args) -> int>` via
`set_defaults`. Raise `mcpwarden.cli.UsageError` for bad input (exit code 2).
"""
