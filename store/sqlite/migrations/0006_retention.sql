-- Retention (ATIENDE_RETENTION_DAYS): when a conversation's identifying data was erased;
-- empty while it is kept whole.
ALTER TABLE conversations ADD COLUMN anonymised_at TEXT NOT NULL DEFAULT '';
CREATE INDEX conversations_retention ON conversations (updated_at) WHERE anonymised_at = '';
