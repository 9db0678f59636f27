-- Scoring service schema: per-customer features built from events, and the current grade.

CREATE TABLE scores (
    customer_id        UUID PRIMARY KEY,
    grade              TEXT NOT NULL,
    days_past_due      INT NOT NULL DEFAULT 0,
    late_receivables   INT NOT NULL DEFAULT 0,
    reason_codes       TEXT[] NOT NULL DEFAULT '{}',
    scorecard_version  TEXT NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Delinquency features per receivable.
CREATE TABLE receivable_features (
    receivable_id  UUID PRIMARY KEY,
    customer_id    UUID NOT NULL,
    days_overdue   INT NOT NULL DEFAULT 0,
    is_open        BOOLEAN NOT NULL DEFAULT TRUE,
    ever_late      BOOLEAN NOT NULL DEFAULT FALSE,
    as_of          DATE
);
CREATE INDEX receivable_features_by_customer ON receivable_features (customer_id);
