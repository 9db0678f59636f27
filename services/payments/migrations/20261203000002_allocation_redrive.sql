-- Issue "Messaging you can bet money on", item 3: no allocation stays `proposed` for ever.
-- The proposal as published is kept, so a reconciler can send it again (contracts applies an
-- allocation id at most once and answers a repeat with its decision); after a few tries a
-- person gets an ALLOCATION_STUCK exception.
ALTER TABLE allocations
    ADD COLUMN proposed_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN event             BYTEA,
    ADD COLUMN event_key         TEXT,
    ADD COLUMN redrives          INT NOT NULL DEFAULT 0,
    ADD COLUMN last_redriven_at  TIMESTAMPTZ,
    ADD COLUMN stuck_raised_at   TIMESTAMPTZ;
CREATE INDEX allocations_proposed ON allocations (proposed_at) WHERE status = 'proposed';
