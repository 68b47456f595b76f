"""Detectors: pure functions of text or tool definitions returning scored findings.

They know nothing of MCP transports, so the gateway, the wrapper, the scanner and the
benchmarks all share them.
"""
