-- Credit hold (R-L5, R-S5): while a customer has an active hold, no new contract is signed
-- for them unless a supervisor allowed that one contract (an override, used once).
CREATE TABLE credit_holds (
    id              UUID PRIMARY KEY,
    customer_id     UUID NOT NULL REFERENCES customers (id),
    source          TEXT NOT NULL CHECK (source IN ('legal_case', 'overdue', 'supervisor')),
    -- The legal case id, or the business date of the cycle that found the overdue.
    source_ref      TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL,
    placed_by       TEXT NOT NULL,
    placed_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    released_by     TEXT,
    released_at     TIMESTAMPTZ,
    release_reason  TEXT,
    CHECK ((released_at IS NULL) = (released_by IS NULL))
);
CREATE INDEX credit_holds_by_customer ON credit_holds (customer_id, placed_at);
-- One hold per legal case, and one active overdue hold per customer: events and cycles
-- may repeat.
CREATE UNIQUE INDEX credit_holds_one_per_case ON credit_holds (source_ref) WHERE source = 'legal_case';
CREATE UNIQUE INDEX credit_holds_one_overdue ON credit_holds (customer_id)
    WHERE source = 'overdue' AND released_at IS NULL;

CREATE TABLE credit_hold_overrides (
    id           UUID PRIMARY KEY,
    customer_id  UUID NOT NULL REFERENCES customers (id),
    contract_no  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    granted_by   TEXT NOT NULL,
    granted_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The contract it let through; NULL until used.
    contract_id  UUID,
    used_at      TIMESTAMPTZ
);
CREATE UNIQUE INDEX credit_hold_overrides_unused ON credit_hold_overrides (customer_id, contract_no)
    WHERE contract_id IS NULL;
