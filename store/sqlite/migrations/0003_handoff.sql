-- Handoff to call-center agents: the queue a handoff waits in, who took it, when, and how it
-- ended; the agents and their console sessions.
ALTER TABLE handoffs ADD COLUMN queue TEXT NOT NULL DEFAULT 'general';
ALTER TABLE handoffs ADD COLUMN agent_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN assigned_at TEXT NOT NULL DEFAULT '';
ALTER TABLE handoffs ADD COLUMN closed_at TEXT NOT NULL DEFAULT '';
ALTER TABLE handoffs ADD COLUMN callback_at TEXT NOT NULL DEFAULT '';
ALTER TABLE handoffs ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE handoffs ADD COLUMN notified_at TEXT NOT NULL DEFAULT '';
CREATE INDEX handoffs_open ON handoffs (status, queue, priority, created_at);

ALTER TABLE messages ADD COLUMN agent_id INTEGER NOT NULL DEFAULT 0;

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'supervisor')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE agent_sessions (
    token_hash TEXT PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
