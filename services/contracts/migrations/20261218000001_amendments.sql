-- Amendments (R-C8; issue 12 item 5): a change a customer asked for (deferral, new schedule,
-- discount, late-fee terms) is proposed by one person and takes effect only when a
-- supervisor who is not the proposer approves it. Each approval writes the next schedule
-- version; every version's items are kept.

-- The contract's current schedule version: 1 at signing.
ALTER TABLE contracts ADD COLUMN schedule_version INT NOT NULL DEFAULT 1 CHECK (schedule_version >= 1);

CREATE TABLE amendments (
    id               UUID PRIMARY KEY,
    contract_id      UUID NOT NULL REFERENCES contracts (id),
    customer_id      UUID NOT NULL REFERENCES customers (id),
    kind             TEXT NOT NULL CHECK (kind IN ('deferral', 'new_schedule', 'discount', 'fee_change')),
    status           TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected', 'withdrawn')),
    -- The terms as the proposal gave them (receivables.contracts.v1.AmendmentTerms, protobuf).
    terms            BYTEA NOT NULL,
    reason           TEXT NOT NULL,
    proposed_by      TEXT NOT NULL,
    proposed_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    decided_by       TEXT,
    decided_at       TIMESTAMPTZ,
    decision_reason  TEXT,
    -- The schedule version proposed against, and the version the approval wrote.
    base_version     INT NOT NULL,
    version          INT,
    CHECK ((status = 'proposed') = (decided_at IS NULL)),
    CHECK ((status = 'approved') = (version IS NOT NULL)),
    -- R-C8: maker-checker, also for anyone writing SQL by hand.
    CHECK (status <> 'approved' OR decided_by <> proposed_by)
);
CREATE INDEX amendments_by_contract ON amendments (contract_id, id);
CREATE INDEX amendments_by_customer ON amendments (customer_id, id);

-- Every schedule version's items as they stood when the next version replaced them (the
-- current version is the live receivables); version 1 is written when the first amendment
-- is approved.
CREATE TABLE schedule_versions (
    contract_id      UUID NOT NULL REFERENCES contracts (id),
    version          INT NOT NULL CHECK (version >= 1),
    -- The amendment that wrote it; NULL for version 1 (the signed schedule).
    amendment_id     UUID REFERENCES amendments (id),
    late_fee_policy  TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_id, version)
);

CREATE TABLE schedule_version_items (
    contract_id         UUID NOT NULL,
    version             INT NOT NULL,
    receivable_id       UUID NOT NULL,
    installment_no      INT NOT NULL,
    kind                TEXT NOT NULL,
    charge_type         TEXT NOT NULL,
    due_date            DATE NOT NULL,
    scheduled_due_date  DATE NOT NULL,
    due_date_provisional BOOLEAN NOT NULL,
    amount              NUMERIC(20, 6) NOT NULL,
    open_amount         NUMERIC(20, 6) NOT NULL,
    late_fee            NUMERIC(20, 6) NOT NULL,
    overdue_since       DATE,
    days_overdue        INT NOT NULL,
    share               NUMERIC(9, 8),
    PRIMARY KEY (contract_id, version, installment_no),
    FOREIGN KEY (contract_id, version) REFERENCES schedule_versions (contract_id, version)
);

-- Late-fee terms changed by amendment (R-C4, R-C8): `policy` applies from `effective_from`
-- on; the daily cycle accrues each period under the terms in force then.
CREATE TABLE late_fee_policy_changes (
    contract_id      UUID NOT NULL REFERENCES contracts (id),
    effective_from   DATE NOT NULL,
    -- The terms before and after; NULL: none.
    previous_policy  TEXT,
    policy           TEXT,
    amendment_id     UUID NOT NULL REFERENCES amendments (id),
    PRIMARY KEY (contract_id, effective_from)
);

-- Late fees a receivable had accrued when an amendment changed its due date or principal:
-- they stay (R-C8), and the daily cycle adds what accrues after `through` to them.
CREATE TABLE late_fee_carry (
    receivable_id  UUID PRIMARY KEY,
    carried        NUMERIC(20, 6) NOT NULL CHECK (carried >= 0),
    through        DATE NOT NULL,
    amendment_id   UUID NOT NULL REFERENCES amendments (id)
);
