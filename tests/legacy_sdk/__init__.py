"""A 1.x MCP SDK client, kept only to prove that clients built on the older SDK still work."""
