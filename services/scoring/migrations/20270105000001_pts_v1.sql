-- Scorecard pts-v1 (R-S1..R-S5): the feature state each customer's score is computed from,
-- maintained from events, every score's full result (so it can be recomputed), and the
-- progress of the periodic full review (R-S3).

-- Exposure per receivable: its due date and what is still open (R-S1 outstanding balance,
-- share overdue). Rows of dpd-v2 start at 0 and fill in with the next event of the receivable.
ALTER TABLE receivable_features
    ADD COLUMN due_date     DATE,
    ADD COLUMN open_amount  NUMERIC NOT NULL DEFAULT 0;

-- The customer as a whole: tenure (first contract seen), property segment, and the latest
-- business date an event carried (the 24-month window of late payments ends there).
CREATE TABLE customer_features (
    customer_id           UUID PRIMARY KEY,
    first_contract_on     DATE,
    segment               TEXT NOT NULL DEFAULT 'residential',
    latest_business_date  DATE
);

-- Payments applied to receivables (R-S1 late payments, share paid on time); one row per
-- allocation, so a re-delivered AllocationApplied counts once.
CREATE TABLE receivable_payments (
    allocation_id  UUID PRIMARY KEY,
    customer_id    UUID NOT NULL,
    receivable_id  UUID NOT NULL,
    amount         NUMERIC NOT NULL,
    booking_date   DATE NOT NULL,
    late           BOOLEAN NOT NULL
);
CREATE INDEX receivable_payments_by_customer ON receivable_payments (customer_id, booking_date);

-- Disputes (R-D8) open now.
CREATE TABLE disputes (
    dispute_id   UUID PRIMARY KEY,
    customer_id  UUID NOT NULL,
    is_open      BOOLEAN NOT NULL
);
CREATE INDEX disputes_by_customer ON disputes (customer_id);

-- Legal cases ever opened (R-L1).
CREATE TABLE legal_cases (
    case_id      UUID PRIMARY KEY,
    customer_id  UUID NOT NULL,
    opened_on    DATE
);
CREATE INDEX legal_cases_by_customer ON legal_cases (customer_id);

-- The current score's full result (version, features, points per indicator, score, grade,
-- thresholds, reasons, strategy) as the domain's ScoreResult in JSON. NULL for a dpd-v2 score
-- not re-scored since.
ALTER TABLE scores
    ADD COLUMN points  INT,
    ADD COLUMN result  JSONB;

-- Every score that moved (points or grade) and every review's, with what caused it: an
-- auditor sees how a grade moved.
CREATE TABLE score_history (
    id           BIGSERIAL PRIMARY KEY,
    customer_id  UUID NOT NULL,
    computed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    cause        TEXT NOT NULL,
    grade        TEXT NOT NULL,
    points       INT NOT NULL,
    result       JSONB NOT NULL
);
CREATE INDEX score_history_by_customer ON score_history (customer_id, id);

-- R-S3: the periodic full review, one row per period; `last_customer` is the progress (the
-- review re-scores customers in id order, one chunk per transaction) so that a review
-- interrupted by a crash resumes after the last chunk it committed.
CREATE TABLE reviews (
    period          TEXT PRIMARY KEY,
    as_of           DATE NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_customer   UUID,
    rescored        INT NOT NULL DEFAULT 0,
    grades_changed  INT NOT NULL DEFAULT 0,
    finished_at     TIMESTAMPTZ
);
