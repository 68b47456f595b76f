"""The gateway as OAuth 2.1 authorization server for MCP clients (issue 14).

Per-client consent in front of per-user third-party authorization: see docs/auth.md.
Submodules are imported where used; this package imports nothing on its own, so the
configuration can name its types without loading authlib.
"""
