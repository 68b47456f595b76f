"""The gateway: an MCP relay with a guard pipeline between clients and upstream servers."""
