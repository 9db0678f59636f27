-- How an exception left the queue (e.g. re-matched automatically once its contract arrived).
ALTER TABLE exceptions ADD COLUMN resolution TEXT;
CREATE INDEX exceptions_open ON exceptions (kind) WHERE resolved_at IS NULL;
