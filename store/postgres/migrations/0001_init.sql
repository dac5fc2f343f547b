-- The same schema as the SQLite store's migrations 0001–0003, in Postgres types.
CREATE TABLE conversations (
    id          text PRIMARY KEY,
    channel     text NOT NULL,
    address     text NOT NULL DEFAULT '',
    token_hash  bytea,
    state       jsonb NOT NULL DEFAULT '{}',
    version     bigint NOT NULL DEFAULT 1,
    optout      boolean NOT NULL DEFAULT false,
    more        jsonb NOT NULL DEFAULT '[]',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
-- One conversation per SMS or WhatsApp address: two replicas taking the first message of a
-- new number at once cannot both create one.
CREATE UNIQUE INDEX conversations_address ON conversations (channel, address) WHERE address <> '';

CREATE TABLE messages (
    id              bigserial PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    direction       text NOT NULL CHECK (direction IN ('in', 'out')),
    body            text NOT NULL,
    provider_id     text UNIQUE,
    action          text NOT NULL DEFAULT '',
    aspect          text NOT NULL DEFAULT '',
    fichas          jsonb NOT NULL DEFAULT '[]',
    processed       boolean NOT NULL DEFAULT true,
    provider_at     timestamptz,
    num_media       integer NOT NULL DEFAULT 0,
    agent_id        bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE INDEX messages_pending ON messages (conversation_id) WHERE NOT processed;
CREATE INDEX messages_inbound_time ON messages (conversation_id, direction, created_at);

CREATE TABLE handoffs (
    id              bigserial PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    reason          text NOT NULL,
    priority        integer NOT NULL DEFAULT 0,
    status          text NOT NULL,
    queue           text NOT NULL DEFAULT 'general',
    agent_id        bigint NOT NULL DEFAULT 0,
    assigned_at     timestamptz,
    closed_at       timestamptz,
    callback_at     timestamptz,
    note            text NOT NULL DEFAULT '',
    notified_at     timestamptz,
    created_at      timestamptz NOT NULL
);
CREATE INDEX handoffs_conversation ON handoffs (conversation_id, id);
CREATE INDEX handoffs_open ON handoffs (status, queue, priority, created_at);

CREATE TABLE deliveries (
    id              bigserial PRIMARY KEY,
    message_id      bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    channel         text NOT NULL,
    to_address      text NOT NULL,
    body            text NOT NULL,
    status          text NOT NULL,
    provider_sid    text UNIQUE,
    error_code      integer NOT NULL DEFAULT 0,
    error_message   text NOT NULL DEFAULT '',
    attempts        integer NOT NULL DEFAULT 0,
    segments        integer NOT NULL DEFAULT 0,
    encoding        text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX deliveries_conversation ON deliveries (conversation_id, id);

CREATE TABLE agents (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    name          text NOT NULL,
    role          text NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'supervisor')),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL
);

CREATE TABLE agent_sessions (
    token_hash text PRIMARY KEY,
    agent_id   bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    csrf       text NOT NULL,
    expires_at timestamptz NOT NULL
);
