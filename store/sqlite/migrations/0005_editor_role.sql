-- Catalogue editors: an account that sees the reports and nothing of the queue. SQLite cannot
-- change a CHECK constraint, so the agents table is rebuilt with the same rows; dropping the
-- old table ends the console sessions (they cascade), so everyone signs in again once.
CREATE TABLE agents_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'supervisor', 'editor')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
INSERT INTO agents_new (id, username, name, role, password_hash, created_at)
    SELECT id, username, name, role, password_hash, created_at FROM agents;
DROP TABLE agents;
ALTER TABLE agents_new RENAME TO agents;
