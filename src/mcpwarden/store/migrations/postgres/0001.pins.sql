-- Pins and approvals: one row per (upstream, kind, name); see docs/pinning.md.
CREATE TABLE pins (
    upstream TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    hash TEXT NOT NULL,
    definition JSONB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('approved', 'quarantined', 'rejected')),
    approved_by TEXT,
    approved_at TEXT,
    first_seen TEXT NOT NULL,
    pending_hash TEXT,
    pending_definition JSONB,
    pending_diff TEXT,
    pending_since TEXT,
    PRIMARY KEY (upstream, kind, name)
);

-- Bumped by every write transaction: a replica without a live change feed compares it.
CREATE TABLE store_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO store_revision (id, value) VALUES (1, 0);
