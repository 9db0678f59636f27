-- Costs of a case the debtor bears (R-D12): recorded by the legal department, published as
-- CollectionCostIncurred for contracts to book as an owed item.
CREATE TABLE case_costs (
    id               UUID PRIMARY KEY,
    case_id          UUID NOT NULL REFERENCES cases (id),
    receivable_id    UUID NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('notice_fee', 'lawyer_fee', 'court_fee',
                                                   'preservation_fee', 'other_legal_cost')),
    amount           NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    incurred_on      DATE NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    recorded_by      TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    recorded_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX case_costs_by_case ON case_costs (case_id);
