-- Staff: users who sign in to the dashboard, their sessions, and API keys
-- that belong to a user and carry scopes. Times are Unix milliseconds UTC.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,              -- UUIDv7
    email         TEXT NOT NULL UNIQUE,          -- trimmed, lower case
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,                 -- owner, admin, marketer, analyst, care
    password_hash TEXT NOT NULL,                 -- argon2id, PHC string
    locale        TEXT NOT NULL DEFAULT '',      -- 'en', 'it'; '' until chosen
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT,
    last_login_at BIGINT
);

-- Dashboard sessions. Only the SHA-256 of the token is stored.
CREATE TABLE sessions (
    hash         TEXT PRIMARY KEY,               -- SHA-256 of the session token, hex
    user_id      TEXT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

-- An API key belongs to a user (NULL: a service key made on the command
-- line) and carries comma-separated permissions. Keys made before scopes
-- existed keep every permission.
ALTER TABLE api_keys ADD COLUMN user_id TEXT REFERENCES users(id);
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
UPDATE api_keys SET scopes = 'pipeline:read,customers:read,customers:pii,customers:write,analytics:read,analytics:write,sources:read,sources:write,settings:read,settings:write';
CREATE INDEX api_keys_user ON api_keys(user_id) WHERE user_id IS NOT NULL;
