"""mcpwarden: a security gateway, stdio wrapper and scanner for the Model Context Protocol."""

__version__ = "0.1.0"
