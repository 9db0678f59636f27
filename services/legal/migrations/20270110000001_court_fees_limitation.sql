-- R-L7 (issue 15): court fees from the national schedule recorded with the case on its moves
-- (payment order fee, acceptance fee, and the refund of half the acceptance fee when a suit
-- is withdrawn or settled), and the limitation period of the claim: from the day after the
-- earliest claimed due date, restarted by a demand that reached the debtor (dunning's
-- DemandDelivered), warned about once per case and expiry date (LimitationPeriodExpiring).
-- Cases opened before this migration have no known due dates: their limitation stays NULL.

ALTER TABLE cases
    ADD COLUMN fee_schedule            TEXT,
    ADD COLUMN payment_order_fee       NUMERIC(20, 6) CHECK (payment_order_fee >= 0),
    ADD COLUMN acceptance_fee          NUMERIC(20, 6) CHECK (acceptance_fee >= 0),
    ADD COLUMN court_fee_refund        NUMERIC(20, 6) CHECK (court_fee_refund >= 0),
    ADD COLUMN default_known_on        DATE,
    ADD COLUMN limitation_expires_on   DATE,
    ADD COLUMN limitation_restarted_on DATE,
    ADD COLUMN limitation_restart_seq  BIGINT;
CREATE INDEX cases_open_by_limitation ON cases (limitation_expires_on) WHERE status <> 'closed';

-- The latest demand that reached each debtor (dunning's DemandDelivered): only ever moves
-- later, so a replay or an older event changes nothing.
CREATE TABLE delivered_demands (
    customer_id      UUID PRIMARY KEY,
    delivered_on     DATE NOT NULL,
    contact_log_seq  BIGINT NOT NULL
);

-- The latest business date contracts' daily cycle completed (DailyCycleCompleted); one row.
CREATE TABLE business_date (
    singleton  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    as_of      DATE NOT NULL
);

-- One LimitationPeriodExpiring per case and expiry date: replays and restarts publish nothing
-- again; a period restarted to a new date may warn again for that date.
CREATE TABLE limitation_warnings (
    case_id        UUID NOT NULL REFERENCES cases (id),
    expires_on     DATE NOT NULL,
    business_date  DATE NOT NULL,
    days_left      INTEGER NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, expires_on)
);
