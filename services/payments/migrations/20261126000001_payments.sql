-- Payments service schema: bank files and lines, payments, allocations, exceptions, and a
-- read model of open receivables built from the contracts service's events.

CREATE TABLE bank_files (
    id               UUID PRIMARY KEY,
    file_name        TEXT NOT NULL,
    sha256           TEXT NOT NULL UNIQUE,   -- file-level idempotency (R-P2)
    format           TEXT NOT NULL,
    lines_total      INT NOT NULL,
    lines_accepted   INT NOT NULL,
    lines_duplicate  INT NOT NULL,
    lines_rejected   INT NOT NULL,
    payments_matched INT NOT NULL,
    exceptions_raised INT NOT NULL,
    received_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Line-level idempotency (R-P2): a transaction already seen in any file is skipped.
CREATE TABLE bank_lines (
    fingerprint  TEXT PRIMARY KEY,
    file_id      UUID NOT NULL REFERENCES bank_files (id),
    line_no      INT NOT NULL,
    payment_id   UUID NOT NULL
);

CREATE TABLE line_errors (
    file_id   UUID NOT NULL REFERENCES bank_files (id),
    line_no   INT NOT NULL,
    field     TEXT NOT NULL,
    message   TEXT NOT NULL
);

CREATE TABLE payments (
    id             UUID PRIMARY KEY,
    file_id        UUID NOT NULL REFERENCES bank_files (id),
    line_no        INT NOT NULL,
    booking_date   DATE NOT NULL,
    amount         NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    currency       CHAR(3) NOT NULL,
    payer_name     TEXT NOT NULL,
    payer_account  TEXT NOT NULL,
    reference      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('matched', 'allocated', 'exception')),
    receivable_id  UUID,
    customer_id    UUID,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX payments_by_file ON payments (file_id);

CREATE TABLE allocations (
    id             UUID PRIMARY KEY,
    payment_id     UUID NOT NULL REFERENCES payments (id),
    receivable_id  UUID NOT NULL,
    amount         NUMERIC(20, 6) NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('proposed', 'applied', 'rejected')),
    reason         TEXT NOT NULL DEFAULT ''
);

CREATE TABLE exceptions (
    id               UUID PRIMARY KEY,
    payment_id       UUID NOT NULL REFERENCES payments (id),
    kind             TEXT NOT NULL,
    reason           TEXT NOT NULL,
    suggested_action TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    resolved_at      TIMESTAMPTZ
);

-- Read model: may be a moment behind contracts; contracts confirms every allocation.
CREATE TABLE open_receivables (
    receivable_id   UUID PRIMARY KEY,
    contract_id     UUID NOT NULL,
    contract_no     TEXT NOT NULL,
    customer_id     UUID NOT NULL,
    installment_no  INT NOT NULL,
    due_date        DATE NOT NULL,
    currency        CHAR(3) NOT NULL,
    open_amount     NUMERIC(20, 6) NOT NULL,
    -- Proposed to contracts but not yet confirmed; not available to other payments.
    pending_amount  NUMERIC(20, 6) NOT NULL DEFAULT 0
);
CREATE INDEX open_receivables_by_contract_no ON open_receivables (contract_no);
