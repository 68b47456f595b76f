"""Guards: independent pipeline stages that inspect, rewrite or deny MCP messages.

See `mcpwarden.guards.base` for the hook contract.
"""
