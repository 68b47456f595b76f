"""Data files shipped with mcpwarden (read with `importlib.resources`); see SOURCES.md."""
