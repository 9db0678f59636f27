-- Repayment plans (R-D6; issue 14 item 3): what a debtor owes on named items, re-scheduled
-- into installments; one person proposes, another approves (above the configured amount a
-- third person with the risk role too). While a plan is kept its items are out of the ladder.
CREATE TABLE plans (
    id                        UUID PRIMARY KEY,
    idempotency_key           TEXT NOT NULL UNIQUE,
    customer_id               UUID NOT NULL,
    case_id                   UUID NOT NULL REFERENCES cases (id),
    receivable_ids            UUID[] NOT NULL CHECK (cardinality(receivable_ids) > 0),
    currency                  CHAR(3) NOT NULL,
    total                     NUMERIC(20, 6) NOT NULL CHECK (total > 0),
    grace_days                INT NOT NULL CHECK (grace_days BETWEEN 0 AND 30),
    reason                    TEXT NOT NULL,
    status                    TEXT NOT NULL CHECK (status IN ('proposed', 'first_approved',
                                  'active', 'rejected', 'completed', 'broken', 'refused')),
    second_approval_required  BOOLEAN NOT NULL,
    proposed_by               TEXT NOT NULL,
    proposed_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    first_approved_by         TEXT,
    first_approved_at         TIMESTAMPTZ,
    second_approved_by        TEXT,
    second_approved_at        TIMESTAMPTZ,
    rejected_by               TEXT,
    decision_note             TEXT NOT NULL DEFAULT '',
    agreed_on                 DATE,
    ended_on                  DATE,
    end_reason                TEXT NOT NULL DEFAULT '',
    paused_step               TEXT NOT NULL DEFAULT '',
    -- Maker-checker held by the database as well as by the service (R-D6).
    CHECK (first_approved_by IS NULL OR first_approved_by <> proposed_by),
    CHECK (second_approved_by IS NULL
           OR (second_approved_by <> proposed_by AND second_approved_by <> first_approved_by))
);
CREATE INDEX plans_by_customer ON plans (customer_id);
CREATE INDEX plans_active ON plans (customer_id) WHERE status = 'active';

CREATE TABLE plan_installments (
    plan_id   UUID NOT NULL REFERENCES plans (id),
    number    INT NOT NULL CHECK (number > 0),
    due_date  DATE NOT NULL,
    amount    NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    PRIMARY KEY (plan_id, number)
);

-- The payments applied to a plan's items while it is active (once per allocation).
CREATE TABLE plan_payments (
    plan_id        UUID NOT NULL REFERENCES plans (id),
    allocation_id  TEXT NOT NULL,
    booking_date   DATE NOT NULL,
    amount         NUMERIC(20, 6) NOT NULL,
    PRIMARY KEY (plan_id, allocation_id)
);

-- An item in an active plan stays open (payments apply) but the ladder passes it by.
ALTER TABLE case_items ADD COLUMN plan_id UUID REFERENCES plans (id);
-- After a broken plan the ladder goes on only with a step more severe than this one.
ALTER TABLE cases ADD COLUMN escalate_above INT;

ALTER TABLE cases DROP CONSTRAINT IF EXISTS cases_hold_reason_check;
ALTER TABLE cases ADD CONSTRAINT cases_hold_reason_check CHECK (hold_reason IN ('ALREADY_TODAY',
    'SPACING', 'OLDEST_ITEM_CHANGED', 'WAITING_FOR_NEXT_STEP', 'PROMISE_TO_PAY', 'REPAYMENT_PLAN'));
