-- Tables the shared runtime needs in every service schema. Versioned in their own
-- migrations table (_kit_migrations) so each service's own migrations stay independent.

-- Transactional outbox: rows are written in the same transaction as the state change
-- and published by the relay with an idempotent producer.
CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    event_id      UUID        NOT NULL UNIQUE,
    topic         TEXT        NOT NULL,
    message_key   TEXT        NOT NULL,
    event_type    TEXT        NOT NULL,
    envelope      BYTEA       NOT NULL,
    traceparent   TEXT        NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at  TIMESTAMPTZ
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Idempotent consumer: an event id is recorded in the same transaction as its effect.
CREATE TABLE processed_events (
    event_id      UUID        PRIMARY KEY,
    event_type    TEXT        NOT NULL,
    topic         TEXT        NOT NULL,
    kafka_partition INT       NOT NULL,
    kafka_offset  BIGINT      NOT NULL,
    processed_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Messages this service sent to its dead-letter topic, for operators.
CREATE TABLE dead_letters (
    id            BIGSERIAL PRIMARY KEY,
    event_id      TEXT        NOT NULL,
    event_type    TEXT        NOT NULL,
    topic         TEXT        NOT NULL,
    kafka_partition INT       NOT NULL,
    kafka_offset  BIGINT      NOT NULL,
    reason        TEXT        NOT NULL,
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
