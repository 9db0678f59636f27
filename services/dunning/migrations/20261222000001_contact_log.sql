-- R-D4, R-L3, R-L8 (issue 13 item 5): the contact log, court evidence. One row per contact,
-- chained: hash = SHA-256(prev_hash || canonical encoding v1 of the row's fields), computed by
-- dunning::domain::contact_log (the database does not recompute it; verification is offline).
-- Append-only like kit's audit_log: a trigger refuses every UPDATE, DELETE and TRUNCATE,
-- whoever issues them (removing it needs a reviewed migration, and even then the chain and
-- the signed checkpoints show what changed).
--
-- R-D14 (not done here): contact records are kept at least three years after the last
-- collection activity on the debt; the retention job that deletes or anonymises them, and
-- logs what it removed, needs its own reviewed path past this trigger (and a tombstone that
-- keeps the chain verifiable).
CREATE TABLE contact_log (
    seq            BIGINT      PRIMARY KEY CHECK (seq > 0),
    case_id        UUID        NOT NULL,
    customer_id    UUID        NOT NULL,
    channel        TEXT        NOT NULL CHECK (channel IN ('sms', 'email', 'app_message',
                       'phone_call', 'letter', 'door_notice', 'visit', 'lawyer_letter',
                       'payment_order_request', 'litigation_handoff')),
    at             TIMESTAMPTZ NOT NULL,
    -- 'system' (no principal) or the authenticated principal who recorded the contact.
    actor_kind     TEXT        NOT NULL CHECK (actor_kind IN ('system', 'principal')),
    actor          TEXT        CHECK ((actor_kind = 'system') = (actor IS NULL)),
    template_id    TEXT        NOT NULL,
    language       TEXT        NOT NULL,
    content_hash   BYTEA       NOT NULL CHECK (octet_length(content_hash) = 32),
    outcome        TEXT        NOT NULL CHECK (outcome IN ('sent', 'delivered', 'failed',
                       'returned', 'answered', 'no_answer', 'refused', 'promise_made',
                       'disputed')),
    proof_kind     TEXT        CHECK (proof_kind IN ('smtp_message_id', 'registered_mail',
                       'signature_image')),
    proof_value    TEXT        CHECK ((proof_kind IS NULL) = (proof_value IS NULL)),
    prev_hash      BYTEA       NOT NULL UNIQUE CHECK (octet_length(prev_hash) = 32),
    hash           BYTEA       NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
-- UNIQUE(prev_hash): an entry has at most one successor, so the chain cannot fork.
CREATE INDEX contact_log_case ON contact_log (case_id, seq);
CREATE INDEX contact_log_customer ON contact_log (customer_id, seq);

-- R-L8: signed statements that the log through through_seq ended in root_hash (the hash of
-- entry through_seq), Ed25519 under the key named key_id. Append-only too.
CREATE TABLE contact_log_checkpoints (
    through_seq    BIGINT      PRIMARY KEY REFERENCES contact_log (seq),
    root_hash      BYTEA       NOT NULL CHECK (octet_length(root_hash) = 32),
    at             TIMESTAMPTZ NOT NULL,
    key_id         TEXT        NOT NULL,
    signature      BYTEA       NOT NULL CHECK (octet_length(signature) = 64)
);

CREATE FUNCTION contact_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the contact log is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER contact_log_no_update BEFORE UPDATE OR DELETE ON contact_log
    FOR EACH ROW EXECUTE FUNCTION contact_log_is_append_only();
CREATE TRIGGER contact_log_no_truncate BEFORE TRUNCATE ON contact_log
    FOR EACH STATEMENT EXECUTE FUNCTION contact_log_is_append_only();
CREATE TRIGGER contact_log_checkpoints_no_update BEFORE UPDATE OR DELETE ON contact_log_checkpoints
    FOR EACH ROW EXECUTE FUNCTION contact_log_is_append_only();
CREATE TRIGGER contact_log_checkpoints_no_truncate BEFORE TRUNCATE ON contact_log_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION contact_log_is_append_only();
