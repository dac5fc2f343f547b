-- Catalogue editors: an account that sees the reports and nothing of the queue.
ALTER TABLE agents DROP CONSTRAINT agents_role_check;
ALTER TABLE agents ADD CONSTRAINT agents_role_check CHECK (role IN ('agent', 'supervisor', 'editor'));
