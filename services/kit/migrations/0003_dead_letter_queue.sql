-- Dead letters an operator can work: the stored message (to re-drive it in-process), its
-- headers, where it sits on the dead-letter topic (the idempotency key of the record: the
-- recorder consumer and the consumer's own fast path may both write it), and what became of
-- it. Rows from before this migration keep NULL positions and stay open.
ALTER TABLE dead_letters
    ADD COLUMN dead_letter_topic     TEXT,
    ADD COLUMN dead_letter_partition INT,
    ADD COLUMN dead_letter_offset    BIGINT,
    ADD COLUMN message_key           BYTEA,
    ADD COLUMN payload               BYTEA,
    ADD COLUMN headers               JSONB       NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN status                TEXT        NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'redriven', 'discarded')),
    ADD COLUMN resolved_by           TEXT,
    ADD COLUMN resolved_at           TIMESTAMPTZ,
    ADD COLUMN note                  TEXT        NOT NULL DEFAULT '',
    ADD CONSTRAINT dead_letters_resolution CHECK ((status = 'open') = (resolved_at IS NULL));

CREATE UNIQUE INDEX dead_letters_position
    ON dead_letters (dead_letter_topic, dead_letter_partition, dead_letter_offset);
CREATE INDEX dead_letters_open ON dead_letters (id) WHERE status = 'open';
