"""Tool-poisoning detection for MCP tool definitions, single and across servers."""

from mcpwarden.detect.tools.cross import cross_server_findings
from mcpwarden.detect.tools.scanner import DEFAULT_THRESHOLD, analyze_tool, scan_tool, scan_tool_list

__all__ = ["DEFAULT_THRESHOLD", "analyze_tool", "cross_server_findings", "scan_tool", "scan_tool_list"]
