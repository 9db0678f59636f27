-- Contracts service schema: customers, contracts, receivables (the only place balances live).

CREATE TABLE customers (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('person', 'company')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Client idempotency keys of commands that create records: a repeat returns the first result.
CREATE TABLE idempotency_keys (
    operation     TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    resource_id   UUID NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (operation, key)
);

CREATE TABLE contracts (
    id           UUID PRIMARY KEY,
    contract_no  TEXT NOT NULL UNIQUE,
    customer_id  UUID NOT NULL REFERENCES customers (id),
    currency     CHAR(3) NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE receivables (
    id              UUID PRIMARY KEY,
    contract_id     UUID NOT NULL REFERENCES contracts (id),
    customer_id     UUID NOT NULL REFERENCES customers (id),
    installment_no  INT NOT NULL CHECK (installment_no > 0),
    due_date        DATE NOT NULL,
    amount          NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    open_amount     NUMERIC(20, 6) NOT NULL CHECK (open_amount >= 0 AND open_amount <= amount),
    -- First business date on which the receivable was found overdue (R-C11).
    overdue_since   DATE,
    days_overdue    INT NOT NULL DEFAULT 0,
    -- Last daily cycle that looked at this receivable; makes a cycle resumable.
    last_cycle      DATE,
    UNIQUE (contract_id, installment_no)
);
CREATE INDEX receivables_open_by_due ON receivables (due_date) WHERE open_amount > 0;

-- Allocations confirmed or refused by this service; the id is the payments service's
-- allocation id, so a repeated allocation can never be applied twice.
CREATE TABLE allocations (
    id             UUID PRIMARY KEY,
    payment_id     UUID NOT NULL,
    receivable_id  UUID NOT NULL,
    amount         NUMERIC(20, 6) NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('applied', 'rejected')),
    reason         TEXT NOT NULL DEFAULT '',
    booking_date   DATE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX allocations_by_receivable ON allocations (receivable_id);

CREATE TABLE daily_cycles (
    as_of          DATE PRIMARY KEY,
    status         TEXT NOT NULL CHECK (status IN ('running', 'done')),
    newly_overdue  INT NOT NULL DEFAULT 0,
    overdue        INT NOT NULL DEFAULT 0,
    started_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at    TIMESTAMPTZ
);
