-- Dunning service schema: delinquency cases, their items, and the action log (R-D4).

CREATE TABLE customer_grades (
    customer_id  UUID PRIMARY KEY,
    grade        TEXT NOT NULL
);

CREATE TABLE cases (
    id            UUID PRIMARY KEY,
    customer_id   UUID NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'paid', 'escalated')),
    current_step  TEXT NOT NULL DEFAULT '',
    grade         TEXT NOT NULL DEFAULT '',
    opened_on     DATE NOT NULL,
    closed_on     DATE
);
-- One active case per customer: one notice covers all their overdue items (R-D3).
CREATE UNIQUE INDEX one_active_case_per_customer ON cases (customer_id) WHERE status = 'active';

CREATE TABLE case_items (
    case_id        UUID NOT NULL REFERENCES cases (id),
    receivable_id  UUID NOT NULL,
    contract_id    UUID NOT NULL,
    contract_no    TEXT NOT NULL,
    due_date       DATE NOT NULL,
    currency       CHAR(3) NOT NULL,
    open_amount    NUMERIC(20, 6) NOT NULL,
    days_overdue   INT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'paid', 'escalated')),
    PRIMARY KEY (case_id, receivable_id)
);
CREATE INDEX case_items_by_receivable ON case_items (receivable_id);

-- Receivables handed to legal: ordinary dunning never touches them again (R-L5).
CREATE TABLE receivables_in_legal (
    receivable_id  UUID PRIMARY KEY,
    case_id        UUID NOT NULL
);

-- Every executed action (R-D4). Append-only.
CREATE TABLE actions (
    id              UUID PRIMARY KEY,
    case_id         UUID NOT NULL REFERENCES cases (id),
    step            TEXT NOT NULL,
    receivable_ids  UUID[] NOT NULL,
    days_overdue    INT NOT NULL,
    business_date   DATE NOT NULL,
    detail          TEXT NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX actions_by_case ON actions (case_id, recorded_at);
