-- Twilio channels: opt-out, SMS continuations, inbound ordering,
-- media, and the delivery of every outbound message.
ALTER TABLE conversations ADD COLUMN optout INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN more TEXT NOT NULL DEFAULT '[]';

ALTER TABLE messages ADD COLUMN processed INTEGER NOT NULL DEFAULT 1;
ALTER TABLE messages ADD COLUMN provider_at TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN num_media INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_pending ON messages (conversation_id, processed) WHERE processed = 0;
CREATE INDEX messages_inbound_time ON messages (conversation_id, direction, created_at);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL,
    to_address      TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    provider_sid    TEXT UNIQUE,
    error_code      INTEGER NOT NULL DEFAULT 0,
    error_message   TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    segments        INTEGER NOT NULL DEFAULT 0,
    encoding        TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX deliveries_conversation ON deliveries (conversation_id, id);
