-- Reports: a bot turn's handoff reason and the score of its first ficha, so that the
-- editors' report can tell the turns that did not answer. Old rows read as '' and 0.
ALTER TABLE messages ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN score REAL NOT NULL DEFAULT 0;
CREATE INDEX messages_created ON messages (created_at);
CREATE INDEX conversations_created ON conversations (created_at);
CREATE INDEX handoffs_created ON handoffs (created_at);
