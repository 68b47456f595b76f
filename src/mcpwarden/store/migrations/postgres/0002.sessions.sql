-- depends: 0001.pins
-- The live-session table shared by all replicas: listed and revoked by `mcpwarden sessions`.
-- Rows are keyed by a SHA-256 handle of the session id, never the id itself.
CREATE TABLE gateway_sessions (
    handle TEXT PRIMARY KEY,
    principal TEXT NOT NULL,
    subject TEXT NOT NULL,
    issuer TEXT,
    client_id TEXT,
    endpoint TEXT NOT NULL,
    upstreams TEXT NOT NULL,
    created_at TEXT NOT NULL,
    replica TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
);
CREATE INDEX gateway_sessions_replica ON gateway_sessions (replica);
