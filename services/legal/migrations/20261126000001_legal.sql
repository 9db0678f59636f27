-- Legal service schema: cases handed over by dunning, what they claim, and their history.

CREATE TABLE cases (
    id                  UUID PRIMARY KEY,
    escalation_id       UUID NOT NULL UNIQUE,
    dunning_case_id     UUID NOT NULL,
    customer_id         UUID NOT NULL,
    currency            CHAR(3) NOT NULL,
    amount_claimed      NUMERIC(20, 6) NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('opened', 'withdrawal_requested')),
    withdrawal_flagged  BOOLEAN NOT NULL DEFAULT FALSE,
    opened_on           DATE NOT NULL,
    reason              TEXT NOT NULL
);
CREATE INDEX cases_by_customer ON cases (customer_id);

CREATE TABLE case_receivables (
    case_id        UUID NOT NULL REFERENCES cases (id),
    receivable_id  UUID NOT NULL,
    contract_no    TEXT NOT NULL,
    claimed        NUMERIC(20, 6) NOT NULL,
    open_amount    NUMERIC(20, 6) NOT NULL,
    PRIMARY KEY (case_id, receivable_id)
);
CREATE INDEX case_receivables_by_receivable ON case_receivables (receivable_id);

CREATE TABLE case_events (
    id           BIGSERIAL PRIMARY KEY,
    case_id      UUID NOT NULL REFERENCES cases (id),
    kind         TEXT NOT NULL,
    detail       TEXT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
