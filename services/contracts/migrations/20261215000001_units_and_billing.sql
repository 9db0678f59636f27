-- Property-management billing (R-C2, R-C3; issue 12 item 2): units by segment and occupancy,
-- their recurring charge terms, and monthly charges as receivables of the unit's
-- property-management contract, billed once per unit, charge type and period.
CREATE TABLE units (
    id           UUID PRIMARY KEY,
    code         TEXT NOT NULL,
    project      TEXT NOT NULL,
    segment      TEXT NOT NULL CHECK (segment IN ('residential', 'commercial', 'villa', 'parking')),
    occupancy    TEXT NOT NULL CHECK (occupancy IN ('vacant', 'occupied')),
    area         NUMERIC(12, 2) NOT NULL CHECK (area > 0),
    customer_id  UUID NOT NULL REFERENCES customers (id),
    contract_id  UUID NOT NULL REFERENCES contracts (id),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (project, code)
);
CREATE INDEX units_by_contract ON units (contract_id);

-- How one charge type is billed for a unit from a month on: a monthly amount or a rate per
-- m², and the share billed while vacant (data, not code).
CREATE TABLE charge_terms (
    unit_id         UUID NOT NULL REFERENCES units (id),
    charge_type     TEXT NOT NULL CHECK (charge_type IN ('management_fee', 'maintenance_fund',
                                                         'water', 'electricity', 'gas')),
    basis           TEXT NOT NULL CHECK (basis IN ('monthly', 'per_m2')),
    amount          NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    vacant_factor   NUMERIC(5, 4) NOT NULL DEFAULT 1 CHECK (vacant_factor > 0 AND vacant_factor <= 1),
    effective_from  DATE NOT NULL CHECK (extract(day FROM effective_from) = 1),
    PRIMARY KEY (unit_id, charge_type, effective_from)
);

ALTER TABLE receivables DROP CONSTRAINT receivables_kind_check;
ALTER TABLE receivables
    ADD CONSTRAINT receivables_kind_check
        CHECK (kind IN ('deposit', 'down_payment', 'installment', 'final_payment', 'milestone',
                        'recurring', 'metered')),
    ADD COLUMN unit_id UUID REFERENCES units (id),
    -- The month billed (its first day), for recurring and metered charges.
    ADD COLUMN period DATE,
    ADD CONSTRAINT receivables_unit_charge_period CHECK ((unit_id IS NULL) = (period IS NULL)),
    -- The idempotency of billing: a unit is billed a charge type once per period.
    ADD CONSTRAINT receivables_one_charge_per_period UNIQUE (unit_id, charge_type, period);

-- Billing runs: a run records its progress after each chunk of units, so a run interrupted
-- by a crash resumes after the last unit it finished.
CREATE TABLE billing_runs (
    period          DATE PRIMARY KEY,
    status          TEXT NOT NULL CHECK (status IN ('running', 'done')),
    -- The last unit (by id) whose chunk committed; NULL before the first.
    after_unit      UUID,
    created         BIGINT NOT NULL DEFAULT 0,
    started_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ
);
