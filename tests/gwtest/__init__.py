"""Shared helpers for gateway tests: start real processes (SDK servers, the gateway) and
talk to them with the official SDK client or raw HTTP."""
