"""The bundled demo: a small notes server written with the official MCP SDK.

`mcpwarden.demo.server` is the MCP server itself (tools, resources, prompts, completion, progress,
logging, sampling, elicitation, subscriptions) so that the gateway can be tried, and tested, against a
realistic peer; its sample inbox carries a deliberate prompt injection for the content guard to catch.
"""
