-- depends: 0002.sessions
-- The authorization server's records (clients, consents, codes, refresh tokens, logins,
-- encrypted third-party tokens): see mcpwarden/authserver/store.py. Secrets are stored as
-- SHA-256 keys or AES-GCM ciphertext only.
CREATE TABLE oauth_records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    user_id TEXT,
    client_id TEXT,
    grp TEXT,
    data TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION,
    revoked_at DOUBLE PRECISION,
    PRIMARY KEY (kind, key)
);
CREATE INDEX oauth_records_user ON oauth_records (kind, user_id);
CREATE INDEX oauth_records_grp ON oauth_records (kind, grp);
